export default ({ name }) => `hello ${name}`;
