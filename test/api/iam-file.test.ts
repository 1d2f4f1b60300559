/**
 * A bad identities file stops the service before it opens the store, with a message naming the file
 * and the field path and never a secret; `npm start` exits with code 2 (like any configuration error).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { identitiesFixture, USERS } from '../helpers/iam.js';
import { TEST_AK, TEST_PROJECT_ID, TEST_SK } from '../helpers/server.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function withFile(text: string | undefined): { env: Record<string, string>; dataDir: string; file: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'dws-iam-file-'));
  dirs.push(dataDir);
  const file = join(dataDir, 'identities.json');
  if (text !== undefined) writeFileSync(file, text, { mode: 0o600 });
  return {
    dataDir,
    file,
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DWS_BOOTSTRAP_AK: TEST_AK,
      DWS_BOOTSTRAP_SK: TEST_SK,
      DWS_BOOTSTRAP_PROJECT_ID: TEST_PROJECT_ID,
      DWS_IAM_FILE: file,
      LOG_LEVEL: 'silent',
    },
  };
}

function edited(edit: (doc: any) => void): string {
  const doc: any = structuredClone(identitiesFixture());
  edit(doc);
  return JSON.stringify(doc, null, 2);
}

/** Starts with the file and returns the ConfigError's message (the start must fail). */
async function refusal(
  text: string | undefined,
): Promise<{ message: string; dataDir: string; file: string }> {
  const setup = withFile(text);
  let message: string | undefined;
  try {
    const server = await startServer(loadConfig(setup.env), { logger: false });
    await server.close();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    message = error.message;
  }
  assert.ok(message !== undefined, 'the start must fail');
  return { message, dataDir: setup.dataDir, file: setup.file };
}

const SECRETS = [
  USERS.admin.sk,
  USERS.admin.password,
  USERS.auditor.sk,
  USERS.betaAdmin.sk,
  USERS.betaAdmin.password,
];

function assertNoSecret(message: string) {
  for (const secret of SECRETS)
    assert.ok(!message.includes(secret), `the message shows a secret: ${message}`);
}

describe('a malformed identities file stops the start', () => {
  test('bad JSON: the position, not the text around it', async () => {
    // The error sits right after an SK: JSON.parse would quote it.
    const text = JSON.stringify(identitiesFixture()).replace(`"${USERS.admin.sk}"`, `"${USERS.admin.sk}",,`);
    const { message, file, dataDir } = await refusal(text);
    assert.match(message, new RegExp(`^DWS_IAM_FILE ${file} is not valid JSON at line 1, column \\d+$`));
    assertNoSecret(message);
    assert.ok(!existsSync(join(dataDir, 'dws-encryption.db')), 'the store was not even opened');
  });

  test('a missing field', async () => {
    const { message, file } = await refusal(edited((d) => delete d.accounts[0].users[1].credentials[0].sk));
    assert.equal(
      message,
      `DWS_IAM_FILE ${file} is invalid:\n  - accounts[0].users[1].credentials[0].sk is required`,
    );
  });

  test('a duplicate access key', async () => {
    const { message } = await refusal(
      edited((d) => (d.accounts[1].users[0].credentials[0].ak = USERS.auditor.ak)),
    );
    assert.match(
      message,
      /accounts\[1\]\.users\[0\]\.credentials\[0\]\.ak repeats the access key \(ak\) of accounts\[0\]\.users\[1\]\.credentials\[0\]\.ak/,
    );
    assertNoSecret(message);
  });

  test('a bad project id', async () => {
    const { message } = await refusal(edited((d) => (d.accounts[0].projects[0].id = 'cn-north-4')));
    assert.match(message, /accounts\[0\]\.projects\[0\]\.id must be 32 lowercase hexadecimal characters/);
  });

  test('several problems at once, a weak SK and a bad password hash, without their values', async () => {
    const { message } = await refusal(
      edited((d) => {
        d.accounts[0].users[0].credentials[0].sk = 'tooShortSecret';
        d.accounts[1].users[0].password_hash = `scrypt$1$1$1$${USERS.betaAdmin.password}$x`;
        delete d.accounts[1].users[0].password;
        d.accounts[0].users[3].deny = ['kms:cmk:destroy'];
      }),
    );
    assert.equal(message.split('\n').length, 4, message);
    assert.match(message, /accounts\[0\]\.users\[0\]\.credentials\[0\]\.sk must be 16 to 256 characters/);
    assert.match(message, /accounts\[1\]\.users\[0\]\.password_hash N must be a power of two/);
    assert.match(message, /accounts\[0\]\.users\[3\]\.deny\[0\] is not a known action/);
    assert.ok(!message.includes('tooShortSecret'), "!message.includes('tooShortSecret')");
    assertNoSecret(message);
  });

  test('not an object, no accounts, a missing file', async () => {
    assert.match((await refusal('[]')).message, /the document must be an object/);
    assert.match(
      (await refusal('{"acounts": []}')).message,
      /acounts is not a known field\n {2}- accounts is required/,
    );
    assert.match((await refusal(undefined)).message, /DWS_IAM_FILE .* cannot be read \(ENOENT\)/);
  });

  test('an access key of the file that is the bootstrap credential’s', async () => {
    const { message } = await refusal(edited((d) => (d.accounts[0].users[0].credentials[0].ak = TEST_AK)));
    assert.match(message, /bootstrap credential/);
    assertNoSecret(message);
  });

  test('a file writable by others is refused; readable by others, it is accepted with a warning', async () => {
    const setup = withFile(JSON.stringify(identitiesFixture()));
    chmodSync(setup.file, 0o646);
    let message = '';
    try {
      await startServer(loadConfig(setup.env), { logger: false });
    } catch (error) {
      assert.ok(error instanceof ConfigError, 'error instanceof ConfigError');
      message = error.message;
    }
    assert.match(message, /is writable by others \(mode 0646\).*chmod 600/);
    assert.ok(!existsSync(join(setup.dataDir, 'dws-encryption.db')), 'refused before the store is opened');

    chmodSync(setup.file, 0o644);
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const server = await startServer(loadConfig(setup.env), { logger });
    await server.close();
    const warning = lines.map((l) => JSON.parse(l)).find((l) => /readable by others/.test(l.msg));
    assert.ok(warning, lines.join(''));
    assert.equal(warning.level, 40);
    assert.match(warning.msg, /mode 0644.*chmod 600/);
  });

  test('npm start exits with code 2 and prints the field path on stderr', () => {
    const setup = withFile(edited((d) => delete d.accounts[0].users[1].credentials[0].sk));
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, ...setup.env },
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /accounts\[0\]\.users\[1\]\.credentials\[0\]\.sk is required/);
    assertNoSecret(result.stderr + result.stdout);
  });
});
