/**
 * The web console end to end, in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core) against a real service: sign in with AK/SK (signed in the browser), create keys
 * and clusters, watch a conversion reach 100%, read the encryption info, rotate both keys, see a
 * constraint refuse a conversion before anyone clicks, and visit every page. Screenshots go to
 * test-artifacts/console/; UPDATE_DOCS_SCREENSHOT=1 also refreshes docs/console-clusters.png.
 *
 * Nothing races a timer: a conversion lasts JOB_SECONDS (far longer than the test watches it), so its
 * progress bar stays on screen however slow the machine is; once the test has seen what it checks, it
 * finishes the job through the emulator's control API (POST /_dws/jobs/complete).
 *
 * Under CI=true a missing browser or an unserved console fails the suite; elsewhere it is skipped
 * with a notice.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../helpers/build.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CHROMIUM = '/usr/bin/chromium';
const CI = process.env.CI === 'true' || process.env.CI === '1';
const ARTIFACTS = join(PACKAGE_ROOT, 'test-artifacts', 'console');
const DOCS_SCREENSHOT = join(PACKAGE_ROOT, 'docs', 'console-clusters.png');
const DESKTOP = { width: 1280, height: 800 };
const PASSWORD = 'Secret!Passw0rd';
/** How long a conversion runs unless the test finishes it: its progress moves 1 % every 1.2 s. */
const JOB_SECONDS = 120;
/** How long a wait polled by condition may take (a loaded machine is slow; a passing run is not). */
const WAIT_MS = 30_000;

/** An IAM user for the password sign-in, in a project of its own (DWS_IAM_FILE). */
const ALICE = { account: 'acme', name: 'alice', password: 'Alice!Passw0rd-e2e', project: 'e2e-project' };
const ALICE_PROJECT_ID = 'fedcba9876543210fedcba9876543210';
const IAM_FILE = {
  accounts: [
    {
      domain_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      name: ALICE.account,
      projects: [{ id: ALICE_PROJECT_ID, name: ALICE.project }],
      users: [{ name: ALICE.name, password: ALICE.password, allow: ['*'] }],
    },
  ],
};

interface Setup {
  server?: TestServer;
  /** Why the suite cannot run here (skipped outside CI, a failure under CI). */
  problem?: string;
}

async function setUp(): Promise<Setup> {
  if (!existsSync(CHROMIUM))
    return { problem: `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)` };
  ensureConsoleBuilt();
  const server = await startTestServer({
    env: { DWS_ENCRYPT_JOB_SECONDS: String(JOB_SECONDS) },
    iamFile: IAM_FILE,
  });
  const res = await fetch(`${server.baseUrl}/console/`);
  const html = await res.text();
  if (res.status !== 200 || !html.includes('<div id="app">')) {
    await server.close({ removeData: true });
    return { problem: `the service does not serve the console at /console/ (status ${res.status})` };
  }
  return { server };
}

const setup = await setUp();

if (setup.problem) {
  if (CI) {
    it('web console prerequisites', () => {
      assert.fail(`console browser tests cannot run: ${setup.problem}`);
    });
  } else {
    const notice = `console browser tests skipped: ${setup.problem}`;
    console.log(`# NOTICE ${notice}`);
    it('web console in Chromium', { skip: notice }, () => {});
  }
} else {
  describe('web console in Chromium', () => {
    const ts = setup.server!;
    const base = ts.baseUrl;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    const foreignRequests: string[] = [];

    const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
    const row = (name: string): Locator => page.locator(`tr[data-cluster="${name}"]`);
    const keyRow = (alias: string): Locator => page.locator(`tr[data-key="${alias}"]`);
    const dialog = () => page.getByRole('dialog');
    const notice = () => page.locator('p.notice[role=status]');

    async function go(link: 'Clusters' | 'Keys' | 'Jobs' | 'Audit') {
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: link }).click();
      await page.getByRole('heading', { level: 1, name: link }).waitFor();
    }

    async function cellText(locator: Locator, label: string): Promise<string> {
      return ((await locator.locator(`[data-label="${label}"]`).textContent()) ?? '').trim();
    }

    async function waitForCell(
      locator: Locator,
      label: string,
      pattern: RegExp,
      timeout = WAIT_MS,
    ): Promise<string> {
      const deadline = Date.now() + timeout;
      let text = '';
      while (Date.now() < deadline) {
        text = await cellText(locator, label);
        if (pattern.test(text)) return text;
        await page.waitForTimeout(100);
      }
      assert.fail(`${label}: "${text}" never matched ${pattern}`);
    }

    /** Finishes every running conversion now (the emulator's control API), as a SUCCESS. */
    async function completeJobs() {
      const done = await ts.call('POST', '/_dws/jobs/complete');
      assert.equal(done.status, 200, done.text);
      assert.ok(
        done.body.jobs.every((job: { status: string }) => job.status === 'SUCCESS'),
        `every job finished: ${done.text}`,
      );
    }

    /** The bar's value once it is above `min`, waiting for it as long as needed (the job lasts minutes). */
    async function waitForProgress(bar: Locator, min: number, timeout = WAIT_MS): Promise<number> {
      const deadline = Date.now() + timeout;
      let value = 0;
      while (Date.now() < deadline) {
        value = Number((await bar.getAttribute('aria-valuenow')) ?? 0);
        if (value > min) return value;
        await page.waitForTimeout(100);
      }
      assert.fail(`the progress bar stayed at ${value}% (waited for more than ${min}%)`);
    }

    async function selectByPrefix(select: Locator, prefix: string) {
      const labels = await select.locator('option').allInnerTexts();
      const label = labels.find((text) => text.startsWith(prefix));
      assert.ok(label, `no option starting with ${prefix} in ${labels.join(' | ')}`);
      await select.selectOption({ label });
    }

    async function createKey(alias: string, spec: 'AES_256' | 'SM4') {
      await page.getByRole('button', { name: 'Create key' }).click();
      await dialog().getByLabel('Alias').fill(alias);
      await dialog()
        .getByRole('radio', { name: new RegExp(`^${spec}`) })
        .check();
      await dialog().getByRole('button', { name: 'Create key' }).click();
      await notice()
        .filter({ hasText: `Key "${alias}" created.` })
        .waitFor();
      await waitForCell(keyRow(alias), 'State', /^Enabled$/);
    }

    async function createCluster(name: string, version: string, agent: string) {
      await page.getByRole('button', { name: 'Create cluster' }).first().click();
      await dialog().getByLabel('Name').fill(name);
      await dialog().getByLabel('Cluster version').fill(version);
      await dialog().getByLabel('guestAgent version').fill(agent);
      await dialog().getByLabel('Administrator password').fill(PASSWORD);
      await dialog().getByRole('button', { name: 'Create', exact: true }).click();
      await notice()
        .filter({ hasText: `Cluster "${name}" is being created.` })
        .waitFor();
      await waitForCell(row(name), 'Encryption', /Plain/);
    }

    async function startEncryption(
      name: string,
      keyAlias: string,
      algorithm: 'generalCipher' | 'SMcompatible',
    ) {
      await row(name).getByRole('button', { name: 'Encrypt…' }).click();
      await dialog()
        .getByRole('radio', { name: new RegExp(`^${algorithm}`) })
        .check();
      await selectByPrefix(dialog().getByLabel('Master key', { exact: true }), `${keyAlias} (`);
      await dialog().getByRole('button', { name: 'Start encryption' }).click();
      await notice()
        .filter({ hasText: `Converting "${name}"` })
        .waitFor();
    }

    before(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      page = await browser.newPage({ viewport: DESKTOP, reducedMotion: 'reduce' });
      page.setDefaultTimeout(WAIT_MS);
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith(base) && !url.startsWith('data:')) foreignRequests.push(url);
      });
    });

    after(async () => {
      await browser?.close();
      await ts.close({ removeData: true });
    });

    it('signs in with an access key, by keyboard, with requests signed in the browser', async () => {
      await page.goto(`${base}/console`);
      assert.equal(new URL(page.url()).pathname, '/console/');
      await page.getByRole('heading', { name: 'DWS encryption console' }).waitFor();
      await page.getByLabel('Access key', { exact: true }).check();
      await shot('01-sign-in');
      await page.getByLabel('Access key (AK)').focus();
      await page.keyboard.type(ts.ak);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'signin-sk');
      const ring = await page.evaluate(() => {
        const style = getComputedStyle(document.activeElement as Element);
        return `${style.outlineStyle} ${style.outlineWidth}`;
      });
      assert.equal(ring, 'solid 2px', 'keyboard focus is visible');
      await page.keyboard.type(ts.sk);
      await page.keyboard.press('Tab');
      await page.keyboard.type(ts.projectId);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Clusters' }).waitFor();
      await page.getByText('No clusters in this project yet.').waitFor();
      // The secret is nowhere a script or a later visitor could read it.
      const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
      assert.ok(!stored.includes(ts.sk), 'the SK must not be stored');
    });

    it('creates keys, and disables, enables, schedules and cancels deletion', async () => {
      await go('Keys');
      await createKey('dws/e2e-main', 'AES_256');
      await createKey('dws/e2e-next', 'AES_256');
      await createKey('dws/e2e-sm4', 'SM4');
      await createKey('dws/e2e-spare', 'AES_256');
      assert.equal(await cellText(keyRow('dws/e2e-sm4'), 'Spec'), 'SM4');

      const spare = keyRow('dws/e2e-spare');
      await spare.getByRole('button', { name: 'Disable' }).click();
      await waitForCell(spare, 'State', /^Disabled$/);
      await spare.getByRole('button', { name: 'Enable' }).click();
      await waitForCell(spare, 'State', /^Enabled$/);
      await spare.getByRole('button', { name: 'Schedule deletion…' }).click();
      const days = dialog().getByLabel('Waiting period (days)');
      assert.equal(await days.getAttribute('min'), '7');
      assert.equal(await days.getAttribute('max'), '1096');
      await days.fill('30');
      await dialog().getByRole('button', { name: 'Schedule deletion' }).click();
      await waitForCell(spare, 'State', /^Pending deletion$/);
      assert.match(await cellText(spare, 'Deletion date'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      await shot('02-keys');
      await spare.getByRole('button', { name: 'Cancel deletion' }).click();
      await waitForCell(spare, 'State', /^(Disabled|Enabled)$/);
    });

    it('shows API errors with their error_code and error_msg', async () => {
      await page.getByRole('button', { name: 'Create key' }).click();
      await dialog().getByLabel('Alias').fill('dws/e2e-main');
      await dialog().getByRole('button', { name: 'Create key' }).click();
      const error = dialog().getByRole('alert');
      await error.waitFor();
      assert.match((await error.locator('.error-code').textContent()) ?? '', /^KMS\.\d{4}$/);
      assert.match((await error.textContent()) ?? '', /alias already exists/i);
      // Escape closes the dialog and gives focus back to the button that opened it.
      await page.keyboard.press('Escape');
      await dialog().waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Create key');
    });

    it('creates clusters, and shows why one cannot be encrypted before anyone clicks', async () => {
      await go('Clusters');
      await createCluster('e2e-sales', '8.2.1', '8.3.0.200');
      await createCluster('e2e-legacy', '8.1.3', '8.3.0.100');
      await createCluster('e2e-finance', '9.1.0', '8.3.0.1000');

      assert.equal(await cellText(row('e2e-sales'), 'guestAgent'), '8.3.0.200');
      assert.equal(await row('e2e-sales').getByRole('button', { name: 'Encrypt…' }).isEnabled(), true);

      const legacy = row('e2e-legacy');
      const encrypt = legacy.getByRole('button', { name: 'Encrypt…' });
      assert.equal(await encrypt.isDisabled(), true);
      const reason = legacy.locator('.constraint');
      assert.match(
        (await reason.textContent()) ?? '',
        /Cannot encrypt:\s*guestAgent version 8\.3\.0\.100 is below 8\.3\.0\.200/,
      );
      assert.doesNotMatch((await reason.textContent()) ?? '', /Cluster version/);
      // The reason is tied to the button for assistive technology.
      assert.equal(await encrypt.getAttribute('aria-describedby'), await reason.getAttribute('id'));
      await shot('03-clusters-constraint');
    });

    it('converts a cluster with a live progress bar that never moves the layout, up to 100%', async () => {
      await startEncryption('e2e-sales', 'dws/e2e-main', 'generalCipher');
      const sales = row('e2e-sales');
      const bar = sales.getByRole('progressbar');
      await bar.waitFor();
      const samples: { value: number; height: number; barWidth: number }[] = [];
      let shotTaken = false;
      // The job runs for JOB_SECONDS: sample the bar until it has been seen a few times and has moved,
      // then finish the job. Ends early only if the job ends by itself (a machine slower than JOB_SECONDS).
      const enough = () => samples.length >= 3 && samples.some((s) => s.value > 0);
      const deadline = Date.now() + 2 * WAIT_MS;
      while (Date.now() < deadline && !enough()) {
        const state = await cellText(sales, 'Encryption');
        if (/Encrypted/.test(state)) break;
        if ((await bar.count()) === 1) {
          const [rowBox, barBox, value] = await Promise.all([
            sales.boundingBox(),
            bar.boundingBox(),
            bar.getAttribute('aria-valuenow'),
          ]);
          if (rowBox && barBox) {
            samples.push({ value: Number(value ?? 0), height: rowBox.height, barWidth: barBox.width });
          }
          if (!shotTaken && Number(value ?? 0) > 0) {
            await shot('04-converting');
            shotTaken = true;
          }
        }
        await page.waitForTimeout(100);
      }
      await completeJobs();
      await waitForCell(sales, 'Encryption', /Encrypted/);
      assert.ok(samples.length >= 3, `saw the bar ${samples.length} times`);
      const values = samples.map((s) => s.value);
      assert.deepEqual(
        values,
        [...values].sort((a, b) => a - b),
        'progress never goes back',
      );
      assert.ok(
        values.some((v) => v > 0),
        `progress moved: ${values.join(',')}`,
      );
      assert.equal(
        new Set(samples.map((s) => s.height)).size,
        1,
        'the row keeps its height while the job runs',
      );
      assert.equal(new Set(samples.map((s) => s.barWidth)).size, 1, 'the bar keeps its width');

      // The job view: 100%, SUCCESS, begin and end times, no failure.
      await go('Jobs');
      await page.locator('table.jobs-table').getByRole('link').first().click();
      const card = page.locator('.job-card');
      await card.getByText('SUCCESS', { exact: true }).waitFor();
      assert.equal(await card.getByRole('progressbar').getAttribute('aria-valuenow'), '100');
      const facts = (await card.locator('dl').textContent()) ?? '';
      assert.match(facts, /Begin time\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      assert.match(facts, /End time\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      assert.match(facts, /Failed code—/);
      await shot('05-job');
    });

    it('shows the encryption info, then rotates the data key and the master key', async () => {
      await go('Clusters');
      const sales = row('e2e-sales');
      await waitForCell(sales, 'Encryption', /Encrypted/);
      assert.equal(await cellText(sales, 'Algorithm'), 'generalCipherAES');
      assert.equal(await cellText(sales, 'Master key'), 'dws/e2e-main');
      assert.equal(await cellText(sales, 'Last rotation'), 'Never');
      await shot('06-encrypted');

      await sales.getByRole('button', { name: 'Rotate data key' }).click();
      await dialog().getByRole('button', { name: 'Rotate data key' }).click();
      await notice()
        .filter({ hasText: /Data key of "e2e-sales" rotated at \d{4}-/ })
        .waitFor();
      const first = await waitForCell(sales, 'Last rotation', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      await shot('07-rotated-data-key');

      await sales.getByRole('button', { name: 'Rotate master key…' }).click();
      const choice = dialog().getByLabel('New master key');
      const options = await choice.locator('option').allInnerTexts();
      assert.ok(!options.some((o) => o.startsWith('dws/e2e-main ')), 'the current key is not offered');
      assert.ok(!options.some((o) => o.startsWith('dws/e2e-sm4 ')), 'an SM4 key does not suit generalCipher');
      await choice.selectOption({ label: 'dws/e2e-next (AES_256)' });
      await dialog().getByRole('button', { name: 'Rotate master key' }).click();
      await notice().filter({ hasText: 'Master key of "e2e-sales" is now dws/e2e-next' }).waitFor();
      await waitForCell(sales, 'Master key', /^dws\/e2e-next$/);
      const second = await cellText(sales, 'Last rotation');
      assert.ok(second >= first, `rotation time ${second} is not before ${first}`);
      await shot('08-rotated-master-key');
    });

    it('shows the clusters page with every state (and the documentation screenshot)', async () => {
      await startEncryption('e2e-finance', 'dws/e2e-sm4', 'SMcompatible');
      const finance = row('e2e-finance');
      const bar = finance.getByRole('progressbar');
      await bar.waitFor();
      // A bar that has moved; the documentation screenshot waits for a third of the way (36 s).
      const docs = process.env.UPDATE_DOCS_SCREENSHOT === '1';
      await waitForProgress(bar, docs ? 30 : 0, docs ? JOB_SECONDS * 1000 : WAIT_MS);
      assert.match(await cellText(finance, 'Encryption'), /^Converting/);
      await page.locator('p.notice').evaluate((el) => el.setAttribute('hidden', ''));
      await shot('09-clusters');
      if (docs) await page.screenshot({ path: DOCS_SCREENSHOT });
      await completeJobs();
      await waitForCell(finance, 'Encryption', /Encrypted/);
      assert.equal(await cellText(finance, 'Algorithm'), 'SMcompatibleSM4');
    });

    it('shows the audit view: who did what, or a friendly note when the server has no audit route', async () => {
      await go('Audit');
      const table = page.locator('table.audit-table');
      const unavailable = page.getByText('The audit log is not available on this server.');
      await table.or(unavailable).first().waitFor();
      if (await table.isVisible()) {
        const text = (await table.textContent()) ?? '';
        assert.match(text, /create-key|createKey|kms/i, 'the key creations are in the log');
        assert.match(text, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      }
      await shot('10-audit');
    });

    it('is readable on a narrow screen', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await go('Clusters');
      await waitForCell(row('e2e-sales'), 'Encryption', /Encrypted/);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
      await page.screenshot({ path: join(ARTIFACTS, '11-clusters-narrow.png'), fullPage: true });
      await page.setViewportSize(DESKTOP);
    });

    it('signs out and forgets the secret', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByText('Signed out. The secret was forgotten.').waitFor();
      const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
      assert.ok(!stored.includes(ts.sk), '!stored.includes(ts.sk)');
      assert.ok(!stored.includes(ts.ak), 'no credential left behind');
      await page.goto(`${base}/console/keys`);
      await page.getByRole('heading', { name: 'DWS encryption console' }).waitFor();
    });

    it('signs in as an IAM user with a token (project by name) that survives a reload', async () => {
      await page.getByRole('radio', { name: 'IAM user' }).check();
      await page.getByLabel('IAM user name').fill(ALICE.name);
      await page.getByLabel('Account (domain) name').fill(ALICE.account);
      await page.getByLabel('Password').fill('wrong-password');
      await page.getByLabel('Project', { exact: true }).fill(ALICE.project);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const refusal = page.getByRole('alert');
      await refusal.waitFor();
      assert.match((await refusal.locator('.error-code').textContent()) ?? '', /^IAM\.\d{4}$/);
      assert.equal(await page.getByLabel('Password').inputValue(), '', 'a refused password is cleared');

      await page.getByLabel('Password').fill(ALICE.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // Deep link kept: signed in on the page that was asked for.
      await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
      const who = (await page.locator('.who').textContent()) ?? '';
      assert.match(who, /alice @ acme/);
      assert.match(who, new RegExp(ALICE_PROJECT_ID));
      await page.getByText('No keys in this project yet.').waitFor();
      await createKey('alice/key', 'SM4');

      const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
      assert.ok(!stored.includes(ALICE.password), 'the password is never stored');
      // A fault rule is active while the page loads: the banner says so (alice may list the rules).
      const rule = await ts.call('POST', '/_dws/faults', { operation: 'RotateKey', latency_ms: 1 });
      assert.equal(rule.status, 200, rule.text);
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
      await waitForCell(keyRow('alice/key'), 'State', /^Enabled$/);
      const banner = page.locator('.fault-banner[role=status]');
      await banner.waitFor();
      assert.match((await banner.textContent()) ?? '', /^1 fault rule is active on this instance/);
      await shot('12-token-session');
      assert.equal((await ts.call('DELETE', '/_dws/faults')).status, 200);
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
      await waitForCell(keyRow('alice/key'), 'State', /^Enabled$/);
      assert.equal(await banner.count(), 0, 'no banner without active rules');
      const token = await page.evaluate(
        () => JSON.parse(sessionStorage.getItem('dws-console.session') ?? '{}').token as string,
      );
      const usable = () =>
        fetch(`${ts.baseUrl}/v1.0/${ALICE_PROJECT_ID}/clusters`, { headers: { 'X-Auth-Token': token } });
      assert.equal((await usable()).status, 200);
      const revoked = page.waitForResponse(
        (r) => r.request().method() === 'DELETE' && r.url().endsWith('/v3/auth/tokens'),
      );
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'DWS encryption console' }).waitFor();
      assert.equal((await revoked).status(), 204);
      const after = await page.evaluate(() => sessionStorage.getItem('dws-console.session'));
      assert.equal(after, null, 'the token is forgotten');
      assert.equal((await usable()).status, 401, 'and revoked: it no longer works anywhere');
    });

    it('loaded nothing from another origin and threw no script error', () => {
      assert.deepEqual(foreignRequests, []);
      assert.deepEqual(pageErrors, []);
    });
  });
}
