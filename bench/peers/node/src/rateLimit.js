'use strict';
// Token buckets kept in memory, one per key (client IP or user id).

class RateLimiter {
  constructor({ perSecond, burst, disabled }) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.disabled = disabled;
    this.buckets = new Map();
    // Full buckets carry no information: drop them now and then.
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  // { allowed, retryAfter } where retryAfter is in whole seconds.
  take(key) {
    if (this.disabled) return { allowed: true, retryAfter: 0 };
    const now = Date.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfter: 0 };
    }
    return { allowed: false, retryAfter: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond)) };
  }

  sweep() {
    const now = Date.now();
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(key);
    }
  }
}

module.exports = { RateLimiter };
