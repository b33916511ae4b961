/**
 * Wall-clock ms (Date.now() scale) for the page's performance.now() times, such as rVFC's presentation
 * and receive times: they then compare with the painter's and the server's clocks on the same machine.
 */

/** Date.now() − performance.now(), estimated from many readings (Date.now() truncates to whole ms). */
let wallOffset = -Infinity;

function sampleOffset(): void {
  for (let i = 0; i < 5; i++) wallOffset = Math.max(wallOffset, Date.now() - performance.now());
}

sampleOffset();
setInterval(sampleOffset, 1000);

export function wall(perfTime: number): number {
  return perfTime + wallOffset;
}
