/**
 * A Response that keeps a string, ArrayBuffer or typed-array body as it was given instead of
 * copying it into a stream at construction (what the platform Response does). Installed as the
 * worker's global Response, so handlers (and a Hono app's c.json/c.text) build these: fngate then
 * sends a string body as a string, moves the request's own buffer back without a copy, and copies
 * any other buffer once. Everything else behaves as the platform Response: the same default
 * Content-Type, the same status check, `body`/`bodyUsed`/`clone()`, and `instanceof Response` is
 * true for platform Responses too (from fetch(), Response.json(), ...).
 */
import { whenWebApisLoad } from './web-globals.js';

const kSource = Symbol('fngate.responseSource');
const kStream = Symbol('fngate.responseStream');
const kUsed = Symbol('fngate.responseUsed');

export type ResponseSource = string | ArrayBuffer | ArrayBufferView;
type Init = ConstructorParameters<typeof Response>[1];
type Body = ConstructorParameters<typeof Response>[0];

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function isSource(body: unknown): body is ResponseSource {
  return typeof body === 'string' || body instanceof ArrayBuffer || ArrayBuffer.isView(body);
}

/** A copy of the bytes, as the platform takes at construction. */
function bytesOf(source: ResponseSource): Uint8Array<ArrayBuffer> {
  if (typeof source === 'string') return encoder.encode(source);
  const view = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return view.slice();
}

/** The fields fngate keeps on a BufferedResponse. */
interface Buffered {
  [kSource]: ResponseSource | undefined;
  [kUsed]: boolean;
}

/**
 * The BufferedResponse class, over the platform's Response: defined when the web APIs load
 * (see web-globals.ts), never before, so that a thread whose function builds no Response never
 * loads undici.
 */
function defineBufferedResponse() {
  /**
   * Streams handed out by a BufferedResponse's `body`, not read yet -> that response. A Response built
   * from one (Hono's middleware does `new Response(res.body, res)` to change headers) takes over
   * the source instead of streaming it.
   */
  const unreadBodies = new WeakMap<ReadableStream<Uint8Array>, BufferedResponse>();
  const PlatformResponse = globalThis.Response;
  const platform = PlatformResponse.prototype;
  const platformBody = Object.getOwnPropertyDescriptor(platform, 'body')!.get!;
  const platformBodyUsed = Object.getOwnPropertyDescriptor(platform, 'bodyUsed')!.get!;
  // The platform's members are typed as properties, not methods; reach them through the prototype.
  const Base = PlatformResponse as unknown as new (body?: Body, init?: Init) => object;

  class BufferedResponse extends Base {
    [kSource]: ResponseSource | undefined;
    [kStream]: ReadableStream<Uint8Array> | undefined;
    [kUsed] = false;

    static override [Symbol.hasInstance](value: unknown): boolean {
      return value instanceof PlatformResponse;
    }

    /** As the platform's Response.json(), keeping the JSON text (sent as is, not streamed). */
    static json(data: unknown, init?: Init): Response {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError('Response.json: the data is not JSON serializable');
      const headers = new Headers(init?.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      return new BufferedResponse(text, { ...init, headers }) as unknown as Response;
    }

    constructor(body?: Body, init?: Init) {
      const from = body instanceof ReadableStream && !body.locked ? unreadBodies.get(body) : undefined;
      const source = from !== undefined ? from.#handOver(body as ReadableStream<Uint8Array>) : isSource(body) ? body : undefined;
      if (source === undefined) {
        super(body, init);
        return;
      }
      const status = init?.status ?? 200;
      if (NULL_BODY_STATUS.has(status)) {
        throw new TypeError(`Response constructor: Invalid response status code ${status} for a response with a body`);
      }
      const headers = new Headers(init?.headers);
      // A stream body gets no default Content-Type from the platform; a string does.
      if (typeof body === 'string' && !headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
      // Read field by field: `init` may be a Response (new Response(res.body, res)), whose fields are getters.
      super(null, { status, statusText: init?.statusText ?? '', headers });
      this[kSource] = source;
    }

    get body(): ReadableStream<Uint8Array> | null {
      const source = this[kSource];
      if (source === undefined) return platformBody.call(this) as ReadableStream<Uint8Array> | null;
      if (this[kStream] === undefined) {
        // Filled on the first read (highWaterMark 0), so an unread body can still be handed over.
        const stream = new ReadableStream<Uint8Array>(
          {
            pull: (controller) => {
              unreadBodies.delete(stream);
              this[kUsed] = true;
              controller.enqueue(bytesOf(source));
              controller.close();
            },
          },
          { highWaterMark: 0 },
        );
        this[kStream] = stream;
        if (!this[kUsed]) unreadBodies.set(stream, this);
      }
      return this[kStream];
    }

    /** A new Response takes this one's unread body stream: it takes the source, this one is used. */
    #handOver(stream: ReadableStream<Uint8Array>): ResponseSource | undefined {
      unreadBodies.delete(stream);
      if (this[kUsed]) return undefined;
      this[kUsed] = true;
      return this[kSource];
    }

    get bodyUsed(): boolean {
      return this[kSource] === undefined ? (platformBodyUsed.call(this) as boolean) : this[kUsed];
    }

    arrayBuffer(): Promise<ArrayBuffer> {
      if (this[kSource] === undefined) return platform.arrayBuffer.call(this as unknown as Response);
      return this.#take().then((source) => bytesOf(source).buffer);
    }

    bytes(): Promise<Uint8Array<ArrayBuffer>> {
      if (this[kSource] === undefined) return platform.arrayBuffer.call(this as unknown as Response).then((buffer) => new Uint8Array(buffer));
      return this.#take().then(bytesOf);
    }

    text(): Promise<string> {
      if (this[kSource] === undefined) return platform.text.call(this as unknown as Response);
      return this.#take().then((source) => (typeof source === 'string' ? source : decoder.decode(bytesOf(source))));
    }

    json(): Promise<unknown> {
      return this.text().then((text) => JSON.parse(text) as unknown);
    }

    blob(): Promise<Blob> {
      if (this[kSource] === undefined) return platform.blob.call(this as unknown as Response);
      const type = (this as unknown as Response).headers.get('content-type') ?? '';
      return this.#take().then((source) => new Blob([bytesOf(source)], { type }));
    }

    formData(): Promise<FormData> {
      if (this[kSource] === undefined) return platform.formData.call(this as unknown as Response);
      const { headers } = this as unknown as Response;
      return this.#take().then((source) => new PlatformResponse(bytesOf(source), { headers }).formData());
    }

    clone(): Response {
      const source = this[kSource];
      if (source === undefined) return platform.clone.call(this as unknown as Response);
      if (this[kUsed]) throw new TypeError('Response.clone: Body has already been consumed.');
      const { status, statusText, headers } = this as unknown as Response;
      return new BufferedResponse(typeof source === 'string' ? source : bytesOf(source), { status, statusText, headers }) as unknown as Response;
    }

    #take(): Promise<ResponseSource> {
      if (this[kUsed]) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
      this[kUsed] = true;
      return Promise.resolve(this[kSource]!);
    }
  }

  return BufferedResponse;
}

/** The body a BufferedResponse was built with, if nobody read it; fngate sends it as the reply. */
export function takeSource(response: Response): ResponseSource | undefined {
  const light = response as unknown as Buffered;
  if (light[kSource] === undefined || light[kUsed]) return undefined;
  light[kUsed] = true;
  return light[kSource];
}

/** Makes `new Response(...)` in this thread build BufferedResponses, from when the web APIs load. */
export function installBufferedResponse(): void {
  whenWebApisLoad(() => {
    Object.defineProperty(globalThis, 'Response', { value: defineBufferedResponse(), writable: true, configurable: true });
  });
}
