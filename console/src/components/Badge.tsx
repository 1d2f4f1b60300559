import type { ComponentChildren } from 'preact';

export type Tone = 'neutral' | 'good' | 'warn' | 'bad' | 'info';

export function Badge({ tone, children }: { tone: Tone; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function statusTone(status: string | null | undefined): Tone {
  switch (status?.toUpperCase()) {
    case 'AVAILABLE':
    case 'SUCCESS':
    case 'SUCCEEDED':
    case 'ALLOWED':
    case 'OK':
      return 'good';
    case 'CREATING':
    case 'DELETING':
    case 'RUNNING':
    case 'INIT':
    case 'WAITING':
    case 'DELAY_SCHEDULED':
    case 'ACCEPTED':
      return 'info';
    case 'UNAVAILABLE':
    case 'FAIL':
    case 'FAILURE':
    case 'FAILED':
    case 'DENIED':
    case 'ERROR':
      return 'bad';
    case 'STOP':
      return 'warn';
    default:
      return 'neutral';
  }
}
