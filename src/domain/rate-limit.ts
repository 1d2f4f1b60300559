/**
 * Per-caller request rate limit: a token bucket per access key (signed requests) or per user (token
 * requests), refilled at `perSecond` up to `burst`. Checked right after authentication, so only a
 * caller who proved the key spends its bucket. One Map lookup and a little arithmetic per request;
 * the keys are bounded by the declared credentials. Per instance, in memory.
 */
export interface RateLimit {
  /** Sustained requests per second per caller; 0 turns the limit off. */
  perSecond: number;
  /** Requests a caller may send at once after being idle. */
  burst: number;
}

/** Ours (the cloud's gateways throttle per API and per user at values they do not publish for DWS). */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 1_000, burst: 2_000 };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(readonly limit: RateLimit = DEFAULT_RATE_LIMIT) {}

  get enabled(): boolean {
    return this.limit.perSecond > 0;
  }

  /** Takes one request from `caller`'s bucket: 0 when allowed, else the milliseconds until one is. */
  take(caller: string, now: number): number {
    const { perSecond, burst } = this.limit;
    let bucket = this.buckets.get(caller);
    if (bucket === undefined) {
      bucket = { tokens: burst, at: now };
      this.buckets.set(caller, bucket);
    } else if (now > bucket.at) {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / perSecond);
  }
}
