import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveUserId, IdentitiesError, validateIdentities } from '../../src/domain/identities.js';
import { ACME, BETA, identitiesFixture, USERS } from '../helpers/iam.js';

function issuesOf(document: unknown): readonly string[] {
  try {
    validateIdentities(document);
  } catch (error) {
    assert.ok(error instanceof IdentitiesError, 'error instanceof IdentitiesError');
    return error.issues;
  }
  assert.fail('expected the document to be refused');
}

/** The fixture with one change made by `edit`. */
function edited(edit: (doc: any) => void): unknown {
  const doc: any = structuredClone(identitiesFixture());
  edit(doc);
  return doc;
}

test('the fixture (every kind of user) is valid and typed', () => {
  const spec = validateIdentities(identitiesFixture());
  assert.equal(spec.accounts.length, 2);
  const [acme, beta] = spec.accounts;
  assert.equal(acme!.domainId, ACME.domainId);
  assert.deepEqual(acme!.projects, [ACME.p1, ACME.p2]);
  const admin = acme!.users[0]!;
  assert.equal(admin.id, deriveUserId(ACME.domainId, 'admin'), 'a stable derived id');
  assert.match(admin.id, /^[0-9a-f]{32}$/);
  assert.equal(admin.password, USERS.admin.password);
  assert.deepEqual(admin.credentials, [{ ak: USERS.admin.ak, sk: USERS.admin.sk }]);
  assert.deepEqual(acme!.users[3]!.deny, ['dws:openAPICluster:delete', 'kms:*']);
  assert.ok(
    acme!.users[2]!.passwordHash?.startsWith('scrypt$'),
    "acme!.users[2]!.passwordHash?.startsWith('scrypt$')",
  );
  assert.notEqual(beta!.users[0]!.id, admin.id, 'same name in another account, another id');
  assert.equal(beta!.projects[0]!.id, BETA.p1.id);
});

test('missing required fields are named by their path', () => {
  assert.deepEqual(issuesOf(edited((d) => delete d.accounts[0].users[1].credentials[0].sk)), [
    'accounts[0].users[1].credentials[0].sk is required',
  ]);
  assert.deepEqual(issuesOf(edited((d) => delete d.accounts[1].domain_id)), [
    'accounts[1].domain_id is required',
  ]);
  assert.deepEqual(issuesOf(edited((d) => delete d.accounts[0].users[0].allow)), [
    'accounts[0].users[0].allow is required',
  ]);
  assert.deepEqual(issuesOf({}), ['accounts is required']);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[0].projects = []))), [
    'accounts[0].projects must list at least one project',
  ]);
});

test('bad values: ids, types, access keys, unknown fields, unknown actions', () => {
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[0].projects[1].id = 'cn-east-3'))), [
    'accounts[0].projects[1].id must be 32 lowercase hexadecimal characters',
  ]);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[0].domain_id = ACME.domainId.toUpperCase()))), [
    'accounts[0].domain_id must be 32 lowercase hexadecimal characters',
  ]);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[0].users[0].credentials[0].ak = 'AK WITH SPACE'))), [
    'accounts[0].users[0].credentials[0].ak must be 8 to 128 letters and digits',
  ]);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[0].users[0].alow = ['*']))), [
    'accounts[0].users[0].alow is not a known field',
  ]);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[0].users[1].allow = ['dws:cluster:encypt']))), [
    'accounts[0].users[1].allow[0] is not a known action: "dws:cluster:encypt"',
  ]);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[0].users = 'none'))), [
    'accounts[0].users must be an array',
  ]);
  assert.deepEqual(issuesOf([]), ['the document must be an object']);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[0].users[0].password_hash = 'scrypt$1$2$3'))), [
    'accounts[0].users[0].password_hash must have the form scrypt$N$r$p$<salt base64>$<hash base64>',
    'accounts[0].users[0] has both password and password_hash; keep one',
  ]);
});

test('duplicates name both places: access keys, project ids, account ids and names, user names', () => {
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[1].users[0].credentials[0].ak = USERS.admin.ak))), [
    'accounts[1].users[0].credentials[0].ak repeats the access key (ak) of accounts[0].users[0].credentials[0].ak',
  ]);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[1].projects[0].id = ACME.p2.id))), [
    'accounts[1].projects[0].id repeats the project id of accounts[0].projects[1].id',
  ]);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[1].domain_id = ACME.domainId))), [
    'accounts[1].domain_id repeats the domain_id of accounts[0].domain_id',
  ]);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[1].name = ACME.name))), [
    'accounts[1].name repeats the name of accounts[0].name',
  ]);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[0].users[1].name = 'admin'))), [
    'accounts[0].users[1].name repeats the user name of accounts[0].users[0].name',
  ]);
  assert.deepEqual(issuesOf(edited((d) => (d.accounts[0].projects[1].name = ACME.p1.name))), [
    'accounts[0].projects[1].name repeats the project name of accounts[0].projects[0].name',
  ]);
});

test('every problem is listed at once', () => {
  const issues = issuesOf(
    edited((d) => {
      delete d.accounts[0].users[1].credentials[0].sk;
      d.accounts[1].projects[0].id = 'bad';
    }),
  );
  assert.deepEqual(issues, [
    'accounts[0].users[1].credentials[0].sk is required',
    'accounts[1].projects[0].id must be 32 lowercase hexadecimal characters',
  ]);
});

test('messages never contain a secret value', () => {
  const secrets = ['short-sk', 'p'.repeat(2000), 'scrypt$16384$8$1$c2FsdA==$aGFzaA=='];
  const issues = issuesOf(
    edited((d) => {
      d.accounts[0].users[0].credentials[0].sk = secrets[0];
      d.accounts[0].users[3].password = secrets[1];
      delete d.accounts[0].users[2].password;
      d.accounts[0].users[2].password_hash = secrets[2];
      d.accounts[1].users[0].password = 12345678;
    }),
  );
  assert.equal(issues.length, 4, issues.join('\n'));
  const text = issues.join('\n');
  for (const secret of [...secrets, '12345678', 'c2FsdA=='])
    assert.ok(!text.includes(secret), secret.slice(0, 20));
  assert.match(text, /accounts\[0\]\.users\[0\]\.credentials\[0\]\.sk must be 16 to 256 characters/);
  assert.match(text, /accounts\[1\]\.users\[0\]\.password must be a string/);
});
