// An independent client for the Coordination relay, written from docs/protocol.md only (sections
// 1, 2, 3, 4 and 6), with libsodium-wrappers for the cryptography and the official
// @microsoft/signalr client for the hub. The C# interop test drives it:
//
//   node interop.mjs --server http://127.0.0.1:PORT --peer <accountId> --text "hello"
//                    [--peer-account-key <base64>] [--timeout-ms 60000]
//
// It registers a new account with one device, logs in, opens the direct conversation with the
// peer account, verifies every recipient device's account signature, sends a pairwise-encrypted
// text over the hub and then waits for one line of JSON on stdin:
//
//   {"command":"receive","messageId":"<uuid>"}      (messageId optional: the first message not sent by us)
//
// It then fetches its inbox over the hub, opens the pairwise envelope addressed to it, verifies the
// sender's signature against the device list and acknowledges. Every step prints exactly one JSON
// object on its own line on stdout; errors go to stderr and the exit code is non-zero. A watchdog
// ends the process after --timeout-ms whatever happens.

import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { HttpTransportType, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import sodium from 'libsodium-wrappers';

// ---------------------------------------------------------------------------------------------
// Command line and process plumbing
// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    if (!name.startsWith('--') || i + 1 >= argv.length) {
      throw new Error(`unexpected argument ${JSON.stringify(name)}; expected --name value pairs`);
    }
    args[name.slice(2)] = argv[++i];
  }
  for (const required of ['server', 'peer', 'text']) {
    if (args[required] === undefined) {
      throw new Error(`missing --${required}`);
    }
  }
  return args;
}

const nodeMajor = Number.parseInt(process.versions.node.split('.')[0], 10);
if (!(nodeMajor >= 18)) {
  process.stderr.write(`interop.mjs: Node.js 18 or later is needed (this is ${process.version})\n`);
  process.exit(64);
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`interop.mjs: ${e.message}\n`);
  process.exit(64);
}

const timeoutMs = Number.parseInt(args['timeout-ms'] ?? '60000', 10);
if (!(timeoutMs > 0)) {
  process.stderr.write(`interop.mjs: --timeout-ms must be a positive number of milliseconds\n`);
  process.exit(64);
}
const deadline = Date.now() + timeoutMs;
const watchdog = setTimeout(() => {
  process.stderr.write(`interop.mjs: timed out after ${timeoutMs} ms\n`);
  process.exit(3);
}, timeoutMs);

function remainingMs() {
  return Math.max(1, deadline - Date.now());
}

/** Rejects when the promise takes longer than ms (or the global deadline). */
function withTimeout(promise, ms, what) {
  const limit = Math.min(ms, remainingMs());
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${limit} ms`)), limit);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function emit(step) {
  process.stdout.write(`${JSON.stringify(step)}\n`);
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Encodings (protocol conventions)
// ---------------------------------------------------------------------------------------------

const b64 = (bytes) => sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);
const fromB64 = (text) => sodium.from_base64(text, sodium.base64_variants.ORIGINAL);
const ascii = (text) => new TextEncoder().encode(text);

function concat(...parts) {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The 16 bytes of a UUID in RFC 4122 (big-endian) order: the hex digits of the canonical form, in order. */
function uuidBytes(id) {
  const canonical = String(id).toLowerCase();
  if (!UUID.test(canonical)) {
    throw new Error(`not a canonical UUID: ${JSON.stringify(id)}`);
  }
  return sodium.from_hex(canonical.replaceAll('-', ''));
}

function uuidString(bytes) {
  const hex = sodium.to_hex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const u8 = (v) => Uint8Array.of(v);

function u16(v) {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, false);
  return b;
}

function u32(v) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, false);
  return b;
}

function u64(v) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), false);
  return b;
}

/** Sequential big-endian reader that refuses to read past the end. */
class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.offset = 0;
  }

  take(n) {
    if (n < 0 || this.offset + n > this.bytes.length) {
      throw new Error(`truncated: wanted ${n} bytes at offset ${this.offset} of ${this.bytes.length}`);
    }
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u8() {
    return this.take(1)[0];
  }

  u16() {
    const b = this.take(2);
    return new DataView(b.buffer, b.byteOffset, 2).getUint16(0, false);
  }

  u32() {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
  }

  rest() {
    return this.take(this.bytes.length - this.offset);
  }
}

// ---------------------------------------------------------------------------------------------
// Section 1 and 2: identity, registration, login
// ---------------------------------------------------------------------------------------------

const H = (...parts) => sodium.crypto_generichash(32, concat(...parts), null);

/** device_statement = "coordination/v1/device" || 0x00 || account_pk || device_sign_pk || device_agree_pk */
function deviceStatement(accountPk, deviceSignPk, deviceAgreePk) {
  for (const k of [accountPk, deviceSignPk, deviceAgreePk]) {
    if (k.length !== 32) {
      throw new Error(`a public key must be 32 bytes, got ${k.length}`);
    }
  }
  return concat(ascii('coordination/v1/device'), u8(0), accountPk, deviceSignPk, deviceAgreePk);
}

/** scheme://host[:port], lower case, default port omitted, no trailing slash. */
function originOf(server) {
  const url = new URL(server);
  return `${url.protocol}//${url.host}`.toLowerCase(); // URL.host already drops a default port
}

function loginStatement(origin, challengeId, nonce) {
  return concat(ascii('coordination/v1/login'), u8(0), new TextEncoder().encode(origin), u8(0), uuidBytes(challengeId), nonce);
}

class Api {
  constructor(server) {
    this.base = server.replace(/\/+$/, '');
    this.token = null;
  }

  async call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    if (this.token !== null) {
      headers.Authorization = `Bearer ${this.token}`;
    }
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(Math.min(15000, remainingMs())),
    });
    const text = await response.text();
    if (!response.ok) {
      let detail = text;
      try {
        const problem = JSON.parse(text);
        detail = problem.detail ?? problem.title ?? text;
      } catch {
        // not problem details; keep the raw text
      }
      throw new Error(`${method} ${path} answered ${response.status}: ${detail}`);
    }
    return text.length === 0 ? null : JSON.parse(text);
  }
}

// ---------------------------------------------------------------------------------------------
// Section 3: recipient devices and their account signatures
// ---------------------------------------------------------------------------------------------

/**
 * GET /api/v1/conversations/{id}/devices, each account signature verified (section 1). The document
 * does not spell the response out; the relay answers a JSON array of
 * { accountId, accountPublicKey, device: { deviceId, signingPublicKey, agreementPublicKey, accountSignature, revoked } }.
 */
async function listVerifiedDevices(api, conversationId) {
  const list = await api.call('GET', `/api/v1/conversations/${conversationId}/devices`);
  if (!Array.isArray(list)) {
    throw new Error(`the device list is not a JSON array: ${JSON.stringify(list).slice(0, 200)}`);
  }
  return list.map((entry) => {
    const d = entry.device;
    const accountPk = fromB64(entry.accountPublicKey);
    const signPk = fromB64(d.signingPublicKey);
    const agreePk = fromB64(d.agreementPublicKey);
    const signature = fromB64(d.accountSignature);
    const verified =
      signature.length === 64 && sodium.crypto_sign_verify_detached(signature, deviceStatement(accountPk, signPk, agreePk), accountPk);
    return {
      accountId: String(entry.accountId).toLowerCase(),
      accountPk,
      deviceId: String(d.deviceId).toLowerCase(),
      signPk,
      agreePk,
      revoked: d.revoked === true,
      verified,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Section 6: inner message, pairwise envelope, padding
// ---------------------------------------------------------------------------------------------

const BUCKETS = [256, 1024, 4096, 16384, 65536];
const MESSAGE_LABEL = ascii('coordination/v1/message');
const HINT_LABEL = ascii('coordination/v1/hint');
const AEAD_ZERO_NONCE = new Uint8Array(24);

function messageSignatureInput(conversation, messageId, senderAccount, senderDevice, sentAtBytes, contentType, body) {
  return concat(MESSAGE_LABEL, u8(0), uuidBytes(conversation), uuidBytes(messageId), senderAccount, senderDevice, sentAtBytes, u8(contentType), H(body));
}

/** inner = sender_account || sender_device || sent_at || content_type || body_length || body || signature */
function encodeInner({ conversation, messageId, senderAccount, senderDevice, sentAt, contentType, body, signSk }) {
  const account = uuidBytes(senderAccount);
  const device = uuidBytes(senderDevice);
  const sentAtBytes = u64(sentAt);
  const signature = sodium.crypto_sign_detached(
    messageSignatureInput(conversation, messageId, account, device, sentAtBytes, contentType, body),
    signSk,
  );
  return concat(account, device, sentAtBytes, u8(contentType), u32(body.length), body, signature);
}

function decodeInner(inner) {
  const r = new Reader(inner);
  const senderAccount = r.take(16);
  const senderDevice = r.take(16);
  const sentAtBytes = r.take(8);
  const contentType = r.u8();
  const bodyLength = r.u32();
  const body = r.take(bodyLength);
  const signature = r.take(64);
  if (r.offset !== inner.length) {
    throw new Error(`${inner.length - r.offset} unexpected bytes after the inner message signature`);
  }
  return {
    senderAccount,
    senderDevice,
    sentAtBytes,
    sentAt: new DataView(sentAtBytes.buffer, sentAtBytes.byteOffset, 8).getBigUint64(0, false),
    contentType,
    body,
    signature,
  };
}

/** hint = first 8 bytes of H("coordination/v1/hint" || shared || eph_pk || d.agreement_pk) */
function hintFor(shared, ephPk, agreePk) {
  return H(HINT_LABEL, shared, ephPk, agreePk).subarray(0, 8);
}

function wrapKeyFor(shared, ephPk, agreePk) {
  return H(shared, ephPk, agreePk);
}

function x25519(sk, pk) {
  let shared;
  try {
    shared = sodium.crypto_scalarmult(sk, pk);
  } catch (e) {
    throw new Error(`X25519 refused the key (all-zero shared secret?): ${e.message}`);
  }
  if (sodium.is_zero(shared)) {
    throw new Error('X25519 gave the all-zero shared secret');
  }
  return shared;
}

/** overhead = 2 + 32 + 2 + 56 × count + 24 + 16 */
const pairwiseOverhead = (count) => 2 + 32 + 2 + 56 * count + 24 + 16;

/**
 * Section 6.2: envelope = 0x01 || 0x01 || eph_pk || count || slots || body_nonce || body_ct, with
 * body_ct = AEAD(K, body_nonce, pad(inner, bucket - overhead), ad), exactly one bucket long.
 */
function sealPairwise(conversation, messageId, inner, recipients) {
  if (recipients.length === 0 || recipients.length > 0xffff) {
    throw new Error(`cannot seal to ${recipients.length} devices`);
  }
  const overhead = pairwiseOverhead(recipients.length);
  const bucket = BUCKETS.find((b) => b >= overhead + inner.length + 1);
  if (bucket === undefined) {
    throw new Error(`a ${inner.length}-byte inner message does not fit the largest bucket with ${recipients.length} slots`);
  }
  const padded = pad(inner, bucket - overhead);
  const k = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  const eph = sodium.crypto_box_keypair(); // X25519
  const convMsg = concat(uuidBytes(conversation), uuidBytes(messageId));
  const slots = recipients.map((d) => {
    const shared = x25519(eph.privateKey, d.agreePk);
    const wrapKey = wrapKeyFor(shared, eph.publicKey, d.agreePk);
    const wrapped = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(k, convMsg, null, AEAD_ZERO_NONCE, wrapKey);
    return concat(hintFor(shared, eph.publicKey, d.agreePk), wrapped);
  });
  const bodyNonce = sodium.randombytes_buf(24);
  const ad = concat(u8(1), u8(1), convMsg, eph.publicKey);
  const bodyCt = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, ad, null, bodyNonce, k);
  const envelope = concat(u8(1), u8(1), eph.publicKey, u16(recipients.length), ...slots, bodyNonce, bodyCt);
  if (envelope.length !== bucket) {
    throw new Error(`sealed envelope is ${envelope.length} bytes, expected the ${bucket}-byte bucket`);
  }
  return envelope;
}

/** Opens a pairwise envelope addressed to the device with agreement key pair agree; returns the inner bytes. */
function openPairwise(conversation, messageId, envelope, agree) {
  if (!BUCKETS.includes(envelope.length)) {
    throw new Error(`envelope of ${envelope.length} bytes is not a bucket size`);
  }
  const r = new Reader(envelope);
  const version = r.u8();
  const type = r.u8();
  if (version !== 1 || type !== 1) {
    throw new Error(`not a version-1 pairwise envelope (version ${version}, type ${type})`);
  }
  const ephPk = r.take(32);
  const count = r.u16();
  const slots = [];
  for (let i = 0; i < count; i++) {
    slots.push({ hint: r.take(8), wrapped: r.take(48) });
  }
  const bodyNonce = r.take(24);
  const bodyCt = r.rest();
  const convMsg = concat(uuidBytes(conversation), uuidBytes(messageId));
  const shared = x25519(agree.privateKey, ephPk);
  const wrapKey = wrapKeyFor(shared, ephPk, agree.publicKey);
  const myHint = hintFor(shared, ephPk, agree.publicKey);
  // The slot whose hint matches first, then every other slot: a slot is ours if it unwraps.
  const matching = slots.filter((s) => sodium.memcmp(s.hint, myHint));
  const ordered = [...matching, ...slots.filter((s) => !matching.includes(s))];
  let k = null;
  for (const slot of ordered) {
    try {
      k = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, slot.wrapped, convMsg, AEAD_ZERO_NONCE, wrapKey);
      break;
    } catch {
      // not our slot
    }
  }
  if (k === null) {
    throw new Error(`no slot of ${count} opens with this device's agreement key (hint matched ${matching.length})`);
  }
  const ad = concat(u8(1), u8(1), convMsg, ephPk);
  const padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, bodyCt, ad, bodyNonce, k);
  if (padded.length !== envelope.length - pairwiseOverhead(count)) {
    throw new Error(`the padded inner message is ${padded.length} bytes, expected bucket - overhead = ${envelope.length - pairwiseOverhead(count)}`);
  }
  return { inner: unpad(padded), slotCount: count, hintMatched: matching.length > 0 };
}

/** pad(x, n): ISO/IEC 7816-4 padding of x to exactly n bytes (sodium_pad with n as the block size). */
function pad(x, n) {
  if (x.length + 1 > n) {
    throw new Error(`cannot pad ${x.length} bytes to ${n}`);
  }
  const padded = sodium.pad(x, n);
  if (padded.length !== n) {
    throw new Error(`sodium_pad gave ${padded.length} bytes, expected ${n}`);
  }
  return padded;
}

/** Removes ISO/IEC 7816-4 padding (sodium_unpad with the padded length as the block size). */
function unpad(padded) {
  if (padded.length === 0) {
    throw new Error('empty padded message');
  }
  return sodium.unpad(padded, padded.length);
}

// ---------------------------------------------------------------------------------------------
// Stdin commands
// ---------------------------------------------------------------------------------------------

const stdinLines = [];
const stdinWaiters = [];
let stdinClosed = false;
const rl = createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  if (line.trim().length === 0) {
    return;
  }
  const waiter = stdinWaiters.shift();
  if (waiter) {
    waiter.resolve(line);
  } else {
    stdinLines.push(line);
  }
});
rl.on('close', () => {
  stdinClosed = true;
  for (const waiter of stdinWaiters.splice(0)) {
    waiter.reject(new Error('stdin closed before a command arrived'));
  }
});

function nextCommand() {
  if (stdinLines.length > 0) {
    return Promise.resolve(JSON.parse(stdinLines.shift()));
  }
  if (stdinClosed) {
    return Promise.reject(new Error('stdin closed before a command arrived'));
  }
  return withTimeout(
    new Promise((resolve, reject) => stdinWaiters.push({ resolve, reject })).then((line) => JSON.parse(line)),
    remainingMs(),
    'waiting for a command on stdin',
  );
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

const stderrLogger = {
  log(level, message) {
    if (level >= LogLevel.Warning) {
      process.stderr.write(`signalr[${LogLevel[level]}]: ${message}\n`);
    }
  },
};

async function main() {
  await withTimeout(sodium.ready, 10000, 'libsodium initialisation');
  const api = new Api(args.server);
  const peerAccountId = String(args.peer).toLowerCase();
  uuidBytes(peerAccountId);

  // Section 1: keys, device statement, registration.
  const account = sodium.crypto_sign_keypair();
  const signing = sodium.crypto_sign_keypair();
  const agree = sodium.crypto_box_keypair();
  const accountSignature = sodium.crypto_sign_detached(deviceStatement(account.publicKey, signing.publicKey, agree.publicKey), account.privateKey);
  const registered = await api.call('POST', '/api/v1/accounts', {
    accountPublicKey: b64(account.publicKey),
    device: { signingPublicKey: b64(signing.publicKey), agreementPublicKey: b64(agree.publicKey), accountSignature: b64(accountSignature) },
  });
  const me = { accountId: String(registered.accountId).toLowerCase(), deviceId: String(registered.deviceId).toLowerCase() };
  emit({ step: 'registered', accountId: me.accountId, deviceId: me.deviceId, accountPublicKey: b64(account.publicKey) });

  // Section 2: challenge, login statement bound to the origin, session.
  const origin = originOf(args.server);
  const challenge = await api.call('POST', '/api/v1/auth/challenges', { deviceId: me.deviceId });
  const nonce = fromB64(challenge.nonce);
  if (nonce.length !== 32) {
    throw new Error(`challenge nonce is ${nonce.length} bytes, expected 32`);
  }
  const loginSignature = sodium.crypto_sign_detached(loginStatement(origin, challenge.challengeId, nonce), signing.privateKey);
  const session = await api.call('POST', '/api/v1/auth/sessions', { challengeId: challenge.challengeId, signature: b64(loginSignature) });
  api.token = session.token;
  if (String(session.deviceId).toLowerCase() !== me.deviceId || String(session.accountId).toLowerCase() !== me.accountId) {
    throw new Error('the session is for another device');
  }
  emit({ step: 'loggedIn', origin, expiresAt: session.expiresAt });

  // Section 3: the direct conversation and its verified devices.
  const conversation = await api.call('POST', '/api/v1/conversations/direct', { peerAccountId });
  const conversationId = String(conversation.conversationId).toLowerCase();
  uuidBytes(conversationId);
  emit({ step: 'conversation', conversationId, kind: conversation.kind });

  let devices = await listVerifiedDevices(api, conversationId);
  const unverified = devices.filter((d) => !d.verified);
  if (unverified.length > 0) {
    throw new Error(`devices with an invalid account signature: ${unverified.map((d) => d.deviceId).join(', ')}`);
  }
  if (args['peer-account-key'] !== undefined) {
    const expected = fromB64(args['peer-account-key']);
    const peerDevices = devices.filter((d) => d.accountId === peerAccountId);
    if (peerDevices.length === 0 || peerDevices.some((d) => !sodium.memcmp(d.accountPk, expected))) {
      throw new Error("the relay's account public key for the peer is not the one the test gave");
    }
  }
  emit({
    step: 'devices',
    devices: devices.map((d) => ({ accountId: d.accountId, deviceId: d.deviceId, revoked: d.revoked, verified: d.verified })),
  });

  // Section 4: the hub, WebSockets only, bearer token.
  const hub = new HubConnectionBuilder()
    .withUrl(`${api.base}/hubs/relay`, {
      accessTokenFactory: () => api.token,
      transport: HttpTransportType.WebSockets,
      skipNegotiation: true,
    })
    .configureLogging(stderrLogger)
    .build();
  hub.serverTimeoutInMilliseconds = 30000;
  const live = [];
  hub.on('ReceiveEnvelope', (envelope) => {
    live.push(envelope); // a handler must return nothing: a value would be sent back as a client result
  });
  hub.on('ConversationAdded', () => {});
  await withTimeout(hub.start(), 15000, 'hub connection');
  emit({ step: 'connected' });

  /** Opens an envelope addressed to this device and checks the inner message as section 6.1 asks. */
  async function openAndVerify(envelope) {
    const envConversation = String(envelope.conversationId).toLowerCase();
    const envMessage = String(envelope.messageId).toLowerCase();
    const ciphertext = fromB64(envelope.ciphertext);
    const opened = openPairwise(envConversation, envMessage, ciphertext, agree);
    const message = decodeInner(opened.inner);
    const senderAccountId = uuidString(message.senderAccount);
    const senderDeviceId = uuidString(message.senderDevice);
    let sender = devices.find((d) => d.deviceId === senderDeviceId);
    if (sender === undefined) {
      devices = await listVerifiedDevices(api, envConversation);
      sender = devices.find((d) => d.deviceId === senderDeviceId);
    }
    if (sender === undefined || sender.revoked) {
      throw new Error(`message ${envMessage} claims sender device ${senderDeviceId}, which is not an active device of the conversation`);
    }
    if (!sender.verified) {
      throw new Error(`message ${envMessage}: sender device ${senderDeviceId} has no valid account signature`);
    }
    if (sender.accountId !== senderAccountId) {
      throw new Error(`message ${envMessage}: device ${senderDeviceId} belongs to ${sender.accountId}, not ${senderAccountId}`);
    }
    const verified = sodium.crypto_sign_verify_detached(
      message.signature,
      messageSignatureInput(envConversation, envMessage, message.senderAccount, message.senderDevice, message.sentAtBytes, message.contentType, message.body),
      sender.signPk,
    );
    if (!verified) {
      throw new Error(`message ${envMessage}: the sender's signature does not verify`);
    }
    if (message.contentType !== 1) {
      throw new Error(`message ${envMessage}: content type ${message.contentType}, expected 1 (UTF-8 text)`);
    }
    return {
      conversationId: envConversation,
      messageId: envMessage,
      seq: envelope.seq,
      text: new TextDecoder('utf-8', { fatal: true }).decode(message.body),
      senderAccountId,
      senderDeviceId,
      sentAt: Number(message.sentAt),
      contentType: message.contentType,
      slots: opened.slotCount,
      hintMatched: opened.hintMatched,
      bucket: ciphertext.length,
      verified,
    };
  }

  try {
    // Section 6.1 + 6.2: a signed text, sealed to every active, verified device of the
    // conversation, this sending device included.
    const messageId = randomUUID();
    const recipients = devices.filter((d) => !d.revoked && d.verified);
    if (!recipients.some((d) => d.deviceId === me.deviceId)) {
      throw new Error('this device is missing from the conversation device list');
    }
    const inner = encodeInner({
      conversation: conversationId,
      messageId,
      senderAccount: me.accountId,
      senderDevice: me.deviceId,
      sentAt: Date.now(),
      contentType: 1,
      body: new TextEncoder().encode(args.text),
      signSk: signing.privateKey,
    });
    const ciphertext = sealPairwise(conversationId, messageId, inner, recipients);
    const sent = await withTimeout(
      hub.invoke('Send', { conversationId, messageId, ciphertext: b64(ciphertext), ttlSeconds: 3600 }),
      15000,
      'hub Send',
    );
    if (String(sent.messageId).toLowerCase() !== messageId || !(sent.seq > 0)) {
      throw new Error(`unexpected SendResult ${JSON.stringify(sent)}`);
    }
    emit({
      step: 'sent',
      conversationId,
      messageId,
      seq: sent.seq,
      duplicate: sent.duplicate,
      recipients: recipients.map((d) => d.deviceId),
      bucket: ciphertext.length,
    });

    emit({ step: 'waiting' });
    const command = await nextCommand();
    if (command.command !== 'receive') {
      throw new Error(`unknown command ${JSON.stringify(command)}`);
    }
    const wanted = command.messageId === undefined ? null : String(command.messageId).toLowerCase();

    // Section 3: Fetch until the wanted envelope is there; open and verify what is addressed to
    // us, recognise our own message id, and acknowledge (cumulatively) what was processed.
    let received = null;
    let ownEcho = null;
    const skipped = [];
    const acked = [];
    while (received === null) {
      const page = await withTimeout(hub.invoke('Fetch', 100), 15000, 'hub Fetch');
      const processed = new Map();
      for (const envelope of page.envelopes) {
        const envConversation = String(envelope.conversationId).toLowerCase();
        const envMessage = String(envelope.messageId).toLowerCase();
        if (envMessage === messageId && envConversation === conversationId) {
          // Our own message comes back too; we are one of its recipients, so it must open.
          const echo = await openAndVerify(envelope);
          ownEcho = { opened: echo.text === args.text && echo.senderDeviceId === me.deviceId, seq: envelope.seq };
        } else if (envConversation !== conversationId || (wanted !== null && envMessage !== wanted)) {
          skipped.push(envMessage);
        } else {
          received = { step: 'received', ...(await openAndVerify(envelope)) };
        }
        processed.set(envConversation, envelope.seq);
        if (received !== null) {
          break;
        }
      }
      if (processed.size > 0) {
        const acks = [...processed].map(([c, seq]) => ({ conversationId: c, seq }));
        await withTimeout(hub.invoke('Ack', { acks }), 15000, 'hub Ack');
        acked.push(...acks);
      } else {
        await delay(100);
      }
    }
    emit(received);

    const after = await withTimeout(hub.invoke('Fetch', 100), 15000, 'hub Fetch after Ack');
    emit({ step: 'acked', acks: acked, ownEcho, skipped, remaining: after.envelopes.length, liveReceived: live.length });
  } finally {
    await withTimeout(hub.stop(), 5000, 'hub stop').catch(() => {});
  }
}

main().then(
  () => {
    clearTimeout(watchdog);
    emit({ step: 'done' });
    process.stdout.write('', () => process.exit(0));
  },
  (error) => {
    clearTimeout(watchdog);
    process.stderr.write(`interop.mjs: ${error?.stack ?? error}\n`);
    process.stdout.write('', () => process.exit(1));
  },
);
