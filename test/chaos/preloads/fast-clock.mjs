// Chaos-suite preload (NODE_OPTIONS='--import <this file>'): this process's wall clock runs
// CHAOS_CLOCK_SKEW_MS ahead (default 10 minutes), as on a host whose clock is off. Date.now() and
// `new Date()` are shifted; explicit dates (`new Date(ms)`, `Date.parse`) and the monotonic clock
// (performance.now, timers) are not, as with a real skewed clock.
const skewMs = Number(process.env.CHAOS_CLOCK_SKEW_MS ?? 10 * 60_000)
const RealDate = globalThis.Date
const realNow = RealDate.now.bind(RealDate)

class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(realNow() + skewMs)
    else super(...args)
  }

  static now() {
    return realNow() + skewMs
  }
}

globalThis.Date = SkewedDate
