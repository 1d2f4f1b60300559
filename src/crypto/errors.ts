// One small error type for every data-dependent failure in src/crypto, so callers can map a failure to an
// API error by `reason` instead of parsing messages. Messages never contain key bytes or plaintext.
// Programmer errors (bad argument types/lengths chosen by our own code) are RangeError/TypeError instead.

export type CryptoErrorReason =
  /** Authentication failed: the blob was modified, or the master key / aad is not the one it was made with.
   *  An AEAD cannot tell these apart, by design. */
  | 'tampered'
  /** The supplied master key is not a valid key for the blob's backend (wrong length). */
  | 'wrong_key'
  /** The blob cannot be parsed: too short, unknown format version or unknown backend. */
  | 'malformed'
  /** The blob parses but belongs to another key (key id or backend differ from the expected ones). */
  | 'key_mismatch';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly reason: CryptoErrorReason;

  constructor(reason: CryptoErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}
