import { Envelope, type TaskEnvelope } from '../protocol/envelope.js';
import { whenWebApisLoad } from './web-globals.js';

const kEnvelope = Symbol('fngate.envelope');
const kReal = Symbol('fngate.request');
const kHeaders = Symbol('fngate.headers');
const kUsed = Symbol('fngate.bodyUsed');
const kSignal = Symbol('fngate.signal');

type EnvelopeRequest = Request & {
  [kEnvelope]: TaskEnvelope;
  [kReal]: Request | undefined;
  [kHeaders]: Headers | undefined;
  [kUsed]: boolean;
  [kSignal]: { readonly signal: AbortSignal };
};

/**
 * Builds undici's Request only when something needs it. Constructing one costs a Headers list,
 * an AbortSignal and a body stream per request, and copies the body; many handlers never look
 * at the request at all, and most read only `url`, `method`, a header or the body once.
 *
 * `instanceof Request` holds. `url`, `method` and `headers` come straight from the envelope;
 * `arrayBuffer()`, `bytes()`, `text()` and `json()` read the transferred body without copying
 * it (a body can be read once, so handing over the buffer itself is safe). `signal` is the
 * context's signal: it aborts on timeout and client disconnect. Everything else (`body`,
 * `clone()`, `formData()`, ...) is served by a real Request built on first use.
 */
export function createEnvelopeRequest(envelope: TaskEnvelope, context: { readonly signal: AbortSignal }): Request {
  const request = Object.create(EnvelopeRequestPrototype) as EnvelopeRequest;
  request[kEnvelope] = envelope;
  request[kReal] = undefined;
  request[kHeaders] = undefined;
  request[kUsed] = false;
  request[kSignal] = context;
  return request;
}

function real(request: EnvelopeRequest): Request {
  let built = request[kReal];
  if (built === undefined) {
    const envelope = request[kEnvelope];
    const init: RequestInit & { duplex?: 'half' } = {
      method: envelope[Envelope.method],
      headers: headersOf(request),
      signal: request[kSignal].signal,
    };
    if (envelope[Envelope.body] !== null && !request[kUsed]) {
      init.body = envelope[Envelope.body];
      init.duplex = 'half';
    }
    built = new Request(envelope[Envelope.url], init);
    request[kReal] = built;
  }
  return built;
}

function headersOf(request: EnvelopeRequest): Headers {
  let headers = request[kHeaders];
  if (headers === undefined) {
    headers = new Headers();
    const raw = request[kEnvelope][Envelope.headers];
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
    request[kHeaders] = headers;
  }
  return headers;
}

/** The body, once: the transferred buffer itself (never copied), or an empty one. */
function takeBody(request: EnvelopeRequest): Promise<ArrayBuffer> {
  // Once a real Request exists it owns the body.
  if (request[kReal] !== undefined) return request[kReal].arrayBuffer();
  if (request[kUsed]) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
  request[kUsed] = true;
  const body = request[kEnvelope][Envelope.body] ?? new ArrayBuffer(0);
  requestBuffers.add(body);
  return Promise.resolve(body);
}

const decoder = new TextDecoder();

/** Request bodies handed to handlers: fngate made them, so one returned as the response moves back without a copy. */
const requestBuffers = new WeakSet<ArrayBuffer>();

/**
 * The request's headers exactly as received, `[name, value, ...]` with repeats kept (the Fetch
 * `Headers` joins repeats with `, `); for a Request fngate did not build, from its Headers.
 */
export function rawHeadersOf(req: Request): readonly string[] {
  const envelope = (req as Partial<EnvelopeRequest>)[kEnvelope];
  if (envelope !== undefined) return envelope[Envelope.headers];
  const flat: string[] = [];
  for (const [name, value] of req.headers) flat.push(name, value);
  return flat;
}

export function isRequestBuffer(buffer: ArrayBufferLike): boolean {
  return buffer instanceof ArrayBuffer && requestBuffers.has(buffer);
}

/**
 * The members of Request (undici's, Node 20) that EnvelopeRequest does not answer itself: each is
 * answered by a real Request, built on first use. Listed rather than read off Request.prototype,
 * which would load undici on every thread at start-up (see web-globals.ts); once the web APIs
 * load, the prototype chain reaches Request.prototype and anything missing here is found there.
 */
const FORWARDED_GETTERS = ['destination', 'referrer', 'referrerPolicy', 'mode', 'credentials', 'cache', 'redirect', 'integrity', 'keepalive', 'isReloadNavigation', 'isHistoryNavigation', 'body', 'duplex'];
const FORWARDED_METHODS = ['clone', 'blob', 'formData'];

const EnvelopeRequestPrototype: object = Object.create(Object.prototype, {
  url: { get(this: EnvelopeRequest) { return this[kEnvelope][Envelope.url]; } },
  method: { get(this: EnvelopeRequest) { return this[kEnvelope][Envelope.method]; } },
  headers: { get(this: EnvelopeRequest) { return headersOf(this); } },
  signal: { get(this: EnvelopeRequest) { return this[kSignal].signal; } },
  bodyUsed: { get(this: EnvelopeRequest) { return this[kReal]?.bodyUsed ?? this[kUsed]; } },
  arrayBuffer: { value(this: EnvelopeRequest) { return takeBody(this); } },
  bytes: { value(this: EnvelopeRequest) { return takeBody(this).then((body) => new Uint8Array(body)); } },
  text: { value(this: EnvelopeRequest) { return takeBody(this).then((body) => decoder.decode(body)); } },
  json: { value(this: EnvelopeRequest) { return takeBody(this).then((body) => JSON.parse(decoder.decode(body)) as unknown); } },
});
for (const key of FORWARDED_GETTERS) {
  Object.defineProperty(EnvelopeRequestPrototype, key, {
    configurable: true,
    get(this: EnvelopeRequest) {
      return (real(this) as unknown as Record<string, unknown>)[key];
    },
  });
}
for (const key of FORWARDED_METHODS) {
  Object.defineProperty(EnvelopeRequestPrototype, key, {
    configurable: true,
    value(this: EnvelopeRequest, ...args: unknown[]) {
      const request = real(this) as unknown as Record<string, (...a: unknown[]) => unknown>;
      return request[key]!(...args);
    },
  });
}

// From when the web APIs load: `instanceof Request` holds (the check itself loads them), and
// every other member of Request is answered by the real Request.
whenWebApisLoad(() => {
  Object.setPrototypeOf(EnvelopeRequestPrototype, Request.prototype);
  for (const key of Reflect.ownKeys(Request.prototype)) {
    if (key === 'constructor' || Object.prototype.hasOwnProperty.call(EnvelopeRequestPrototype, key)) continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(Request.prototype, key)!;
    if (typeof descriptor.value === 'function') {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(EnvelopeRequestPrototype, key, {
        value(this: EnvelopeRequest, ...args: unknown[]) {
          return method.apply(real(this), args);
        },
      });
    } else if (descriptor.get !== undefined) {
      const getter = descriptor.get;
      Object.defineProperty(EnvelopeRequestPrototype, key, {
        get(this: EnvelopeRequest) {
          return getter.call(real(this));
        },
      });
    }
  }
});
