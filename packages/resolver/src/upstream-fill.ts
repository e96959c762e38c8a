import type { FetchTicket } from './fetch-budget.js';
import type { CacheFill } from './resolver-cache.js';
import type { Upstream, UpstreamReporter, UpstreamResult, UpstreamSink } from './upstream.js';

/** A fetch that has started to deliver the file: the rest arrives in the background. */
export interface StartedFetch {
  /** The address that answered (said by the sink's `answered`, or by the finished fetch). */
  address: string | undefined;
  /** Settles when the upstream is done: every byte is in `fill` (not yet finished). */
  done: Promise<UpstreamResult>;
  /** The upstream ignored the sink and returned the file whole: nothing is left to stream. */
  whole: boolean;
}

/**
 * Starts `upstream.fetch` streaming into `fill`, and resolves as soon as the upstream shows it
 * has the file (it said the size, wrote the first bytes, or returned them whole), so phones can
 * be served while the rest arrives. Rejects as the fetch does when it fails before that
 * ("not found", unreachable, aborted). Upstreams that ignore the sink return `data`: it is
 * written to the fill at once. Bytes are counted against the fetch budget as they come.
 */
export function fetchIntoFill(
  upstream: Upstream,
  name: string,
  fill: CacheFill,
  opts: { signal: AbortSignal; reporter: UpstreamReporter; ticket: FetchTicket },
): Promise<StartedFetch> {
  let started: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    started = resolve;
  });
  let answeredBy: string | undefined;
  const sink: UpstreamSink = {
    answered: (address) => {
      answeredBy = address;
    },
    size: (bytes) => {
      fill.size?.(bytes);
      started();
    },
    write: (chunk) => {
      opts.ticket.add(chunk.byteLength);
      started();
      return fill.write(chunk);
    },
  };
  const done = upstream
    .fetch(name, { signal: opts.signal, reporter: opts.reporter, sink })
    .then(async (res) => {
      if (res.data && fill.written === 0 && res.data.byteLength > 0) {
        // The upstream answered with the whole file: it has answered now, not once the copy
        // into the cache (a disk write) is done, so answers arriving together rank together.
        answeredBy ??= res.address;
        fill.size?.(res.data.byteLength);
        started();
        opts.ticket.add(res.data.byteLength);
        await fill.write(res.data);
      }
      return res;
    });
  let finished: UpstreamResult | undefined;
  done.then(
    (res) => {
      finished = res;
    },
    () => {},
  );
  return Promise.race([first, done]).then(() => ({
    address: finished?.address ?? answeredBy,
    done,
    whole: finished !== undefined,
  }));
}
