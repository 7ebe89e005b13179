/** Placeholder until the command lands. */
export async function run(_argv: readonly string[]): Promise<void> {
  process.stderr.write("fngate: not implemented yet\n");
  process.exitCode = 1;
}
