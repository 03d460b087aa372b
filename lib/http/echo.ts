/**
 * The HTTP echo: any method on any path that is not one of Echo's own routes gets the request back
 * as it reached Echo (method, path, query, headers, body, client address, TLS), as JSON, or as
 * plain text for `Accept: text/plain`, so whoever tests a proxy or a load balancer sees what
 * reached the backend. Only the request's own data is shown, as `/info` shows a client its own.
 *
 * @module
 */
import { clientAddress } from "../client_address.ts";
import type { Config } from "../config.ts";
import type { Context } from "../context.ts";
import { corsHeaders, isPreflight, originAllowed, originRefused, preflight } from "./cors.ts";
import { answered, plain } from "./answer.ts";
import { type HttpKnobs, isHttpKnobError, parseHttpKnobs } from "./knobs.ts";
import { readBody } from "./request_body.ts";
import { decodeJwt, type JwtReport } from "./jwt.ts";
import { describeIdentity } from "../identity.ts";

/** A name given once maps to its value; a name given more than once, to its values in order. */
export type Multimap = Record<string, string | string[]>;

/** The request as the echo reports it. */
export interface EchoedRequest {
  method: string;
  /** The path as sent, still percent-encoded; as the runtime gave it where `pathNote` is present. */
  path: string;
  /**
   * Present where the runtime normalises the path before Echo sees it (Bun): how, since the
   * normalised path cannot show whether the path sent was changed.
   */
  pathNote?: string;
  /** The query's parameters, decoded, in order. */
  query: Multimap;
  /**
   * The headers as the runtime hands them over: names lower-case and sorted, a repeated header's
   * values joined with ", " in the order received, except Set-Cookie, whose values are kept apart.
   */
  headers: Multimap;
  body: {
    /** Bytes received. */
    size: number;
    /** `utf-8` when the bytes are valid UTF-8 (`content` is that text), else `base64`. */
    encoding: "utf-8" | "base64";
    content: string;
  };
  /** The client's address (from the trusted proxy's header under TRUST_PROXY). */
  remoteAddress: string;
  /** Whether the request reached Echo over TLS (a TLS-terminating proxy in front makes this false). */
  tls: boolean;
  /** Only with `Authorization: Bearer …`: the token decoded, never verified, or why it could not be (lib/http/jwt.ts). */
  jwt?: JwtReport;
  /**
   * Which Echo answered: the host (in a container, its hostname; `null` where unknown), and the
   * process and isolate, since several may share a port behind one address.
   */
  servedBy: { hostname: string | null; runtime: string; pid: number; id: string };
}

/** What the echo reads besides the request. */
export type EchoContext =
  & Pick<Context, "config" | "logger" | "registry" | "runtime" | "process">
  & Partial<Pick<Context, "pathNote">>;

/** Answers an echo request; `socketAddress` is the address the runtime saw the request come from. */
export async function httpEcho(
  request: Request,
  context: EchoContext,
  socketAddress: string,
): Promise<Response> {
  const url = new URL(request.url);
  const path = rawPath(request.url);
  const { config } = context;
  const remoteAddress = clientAddress(request.headers, socketAddress, config.trustProxy);
  const done = (service: "echo" | "preflight", response: Response, fields = {}) => {
    answered(context, service, request, path, response.status, { remote: remoteAddress, ...fields });
    return response;
  };
  // The echo's refusals carry RESPONSE_HEADERS too; its answer applies them itself, before its knobs.
  const refused = (response: Response) => {
    applyHeaderKnobs(response.headers, config.responseHeaders);
    return done("echo", response);
  };
  if (isPreflight(request)) return done("preflight", preflight(request, config.allowedOrigins));
  if (!originAllowed(request.headers.get("origin"), config.allowedOrigins)) {
    return refused(originRefused());
  }
  const cors = corsHeaders(request, config.allowedOrigins);
  const knobs = parseHttpKnobs(url.searchParams, request.headers, {
    enabled: config.knobs === "on",
    maxBodyBytes: config.maxMessageBytes,
  });
  if (isHttpKnobError(knobs)) return refused(plain(knobs.status, knobs.message, cors));
  const body = await readBody(request, config.maxMessageBytes);
  if (!body.ok) {
    return refused(
      plain(413, `request body of ${body.size} is over MAX_MESSAGE_BYTES (${config.maxMessageBytes})`, {
        ...cors,
        // The rest of the body was not read: the connection cannot carry another request.
        connection: "close",
      }),
    );
  }
  context.registry.httpBodyBytes += body.bytes.byteLength;
  if (knobs.delayMs) await new Promise((resolve) => setTimeout(resolve, knobs.delayMs));
  const echoed = describe(request, path, url, body.bytes, remoteAddress, context);
  const response = answer(request, echoed, knobs, cors, config);
  return done("echo", response, { bytes: body.bytes.byteLength });
}

/**
 * The path as the runtime gave it, from the first `/` after the authority: as sent on Deno, where `new URL`
 * would normalise it; Bun has already resolved its dot segments (`Context.pathNote`).
 */
export function rawPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return url.slice(start, query < 0 ? undefined : query);
}

/** Builds the record of a request whose body has been read. */
export function describe(
  request: Request,
  path: string,
  url: URL,
  bytes: Uint8Array,
  remoteAddress: string,
  context: Pick<Context, "runtime" | "process"> & Partial<Pick<Context, "pathNote">>,
): EchoedRequest {
  const jwt = decodeJwt(request.headers.get("authorization"));
  const { hostname, pid, id } = context.process;
  return {
    method: request.method,
    path,
    ...(context.pathNote ? { pathNote: context.pathNote } : {}),
    query: multimap(url.searchParams),
    headers: multimap(request.headers),
    body: encodeBody(bytes),
    remoteAddress,
    tls: url.protocol === "https:",
    ...(jwt === undefined ? {} : { jwt }),
    servedBy: { hostname, runtime: context.runtime, pid, id },
  };
}

function multimap(pairs: Iterable<[string, string]>): Multimap {
  const out: Multimap = {};
  for (const [name, value] of pairs) {
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (typeof had === "string") out[name] = [had, value];
    else had.push(value);
  }
  return out;
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as text when it is valid UTF-8, else as base64. */
export function encodeBody(bytes: Uint8Array): EchoedRequest["body"] {
  try {
    return { size: bytes.byteLength, encoding: "utf-8", content: STRICT_UTF8.decode(bytes) };
  } catch {
    // Uint8Array.prototype.toBase64 (TC39 "Uint8Array to/from base64") is in both runtimes' engines.
    const base64 = (bytes as Uint8Array & { toBase64(): string }).toBase64();
    return { size: bytes.byteLength, encoding: "base64", content: base64 };
  }
}

/** Statuses whose responses have no body (RFC 9110 §15.3.5, §15.3.6, §15.4.5). */
const NULL_BODY_STATUSES = [204, 205, 304];

/** The answer to an echo request, shaped by its knobs. */
function answer(
  request: Request,
  echoed: EchoedRequest,
  knobs: HttpKnobs,
  cors: Record<string, string>,
  config: Pick<Config, "defaultStatus" | "responseHeaders">,
): Response {
  const status = knobs.status ?? config.defaultStatus;
  const headers = new Headers({
    ...cors,
    "cache-control": "no-store",
    // The echo repeats what the client sent; a knob may even make it text/html. Sandboxed, it can
    // never run as a page of Echo's origin.
    "content-security-policy": "default-src 'none'; sandbox",
    "x-content-type-options": "nosniff",
  });
  let body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null = null;
  let size = 0;
  if (knobs.bodyBytes !== undefined) {
    headers.set("content-type", "application/octet-stream");
    size = knobs.bodyBytes;
    body = filler(size);
  } else if (knobs.body !== undefined) {
    // Exactly the bytes asked for; a `header` knob's Content-Type (applied below) replaces this one.
    headers.set("content-type", knobs.body.contentType);
    body = knobs.body.bytes;
    size = body.byteLength;
  } else {
    const text = wantsText(request.headers.get("accept"));
    headers.set("content-type", text ? "text/plain; charset=utf-8" : "application/json; charset=utf-8");
    headers.append("vary", "accept");
    body = new TextEncoder().encode(text ? renderText(echoed) : JSON.stringify(echoed, null, 2) + "\n");
    size = body.byteLength;
  }
  // RESPONSE_HEADERS first, so that the request's own knobs win.
  applyHeaderKnobs(headers, config.responseHeaders);
  applyHeaderKnobs(headers, knobs.headers);
  if (NULL_BODY_STATUSES.includes(status)) return new Response(null, { status, headers });
  headers.set("content-length", String(size));
  // HEAD: the headers GET would get, Content-Length included (RFC 9110 §9.3.2), no body.
  if (request.method === "HEAD") body = null;
  return new Response(body, { status, headers });
}

/**
 * Headers that keep an echo from running as a page of Echo's origin: a knob adds to them (a second
 * policy only narrows), never replaces them.
 */
const SANDBOX_HEADERS = new Set(["content-security-policy", "x-content-type-options"]);

/**
 * The `header` knob and `RESPONSE_HEADERS`: the first value of a name replaces the header Echo would send
 * (`Content-Type:text/plain` answers with exactly that type), a repeat of the name adds a value.
 */
function applyHeaderKnobs(headers: Headers, asked: Iterable<readonly [string, string]> | undefined): void {
  const set = new Set<string>();
  for (const [name, value] of asked ?? []) {
    const key = name.toLowerCase();
    if (set.has(key) || SANDBOX_HEADERS.has(key)) headers.append(name, value);
    else headers.set(name, value);
    set.add(key);
  }
}

/** True when the client prefers `text/plain` to JSON: it names text/plain before application/json. */
export function wantsText(accept: string | null): boolean {
  for (const element of (accept ?? "").split(",")) {
    const [type, ...params] = element.split(";").map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    if (type === "text/plain") return true;
    if (type === "application/json") return false;
  }
  return false;
}

/** The request as plain text: request line, client, headers, a blank line, the body. */
export function renderText(echoed: EchoedRequest): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(echoed.query)) {
    for (const v of typeof value === "string" ? [value] : value) query.append(name, v);
  }
  const search = query.size > 0 ? `?${query}` : "";
  const headers = Object.entries(echoed.headers).flatMap(([name, value]) =>
    (typeof value === "string" ? [value] : value).map((v) => `${name}: ${v}`)
  );
  const { body, jwt, servedBy } = echoed;
  return [
    `Request served by Echo on ${describeIdentity(servedBy.runtime, servedBy)}`,
    ``,
    `${echoed.method} ${echoed.path}${search}`,
    ...(echoed.pathNote ? [`path note: ${echoed.pathNote}`] : []),
    `client: ${echoed.remoteAddress}${echoed.tls ? " (TLS)" : ""}`,
    ...(jwt === undefined ? [] : jwtLines(jwt)),
    ``,
    ...headers,
    ``,
    body.encoding === "utf-8" ? body.content : `(${body.size} bytes, not UTF-8; base64:)\n${body.content}`,
  ].join("\n") + (body.content.endsWith("\n") ? "" : "\n");
}

/** The Bearer token's lines of the text form: header and claims as one-line JSON each, or the error. */
function jwtLines(jwt: JwtReport): string[] {
  if ("error" in jwt) return [`jwt: not decoded: ${jwt.error}`];
  return [
    `jwt (not verified): header ${JSON.stringify(jwt.header)}`,
    `jwt (not verified): payload ${JSON.stringify(jwt.payload)}`,
  ];
}

const FILLER_CHUNK = 64 * 1024;
/** `body_bytes` filler: printable, so a terminal shows it harmlessly. */
const FILLER = new TextEncoder().encode(
  "0123456789abcdefghijklmnopqrstuvwxyz\n".repeat(FILLER_CHUNK / 37 + 1),
)
  .subarray(0, FILLER_CHUNK);

/** `size` bytes of filler, produced as the client reads: a slow reader holds one chunk, not the whole body. */
function filler(size: number): ReadableStream<Uint8Array> {
  let left = size;
  return new ReadableStream({
    pull(controller) {
      if (left === 0) return controller.close();
      const n = Math.min(left, FILLER_CHUNK);
      left -= n;
      // A copy: a runtime may take ownership of an enqueued chunk.
      controller.enqueue(FILLER.slice(0, n));
    },
  }, { highWaterMark: 0 });
}
