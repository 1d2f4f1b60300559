/** A fixed-size progress bar: its box never changes size, so a running job causes no layout shift. */
export function ProgressBar({ value, label }: { value: number | null; label: string }) {
  const pct = value == null ? 0 : Math.max(0, Math.min(100, value));
  return (
    <span class="progress">
      <span
        class="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={value ?? undefined}
      >
        <span class="progress-fill" style={{ transform: `scaleX(${pct / 100})` }} />
      </span>
      <span class="progress-text" aria-hidden="true">
        {value == null ? '…' : `${pct}%`}
      </span>
    </span>
  );
}
