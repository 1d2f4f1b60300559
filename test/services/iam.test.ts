/** The IAM service without HTTP: the token cache, lookups that fall through to the store, and the directory. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { validateIdentities } from '../../src/domain/identities.js';
import { Directory } from '../../src/services/directory.js';
import { IamService } from '../../src/services/iam.js';
import type { TokenIdentity } from '../../src/services/identity.js';
import { IamIdentityProvider, TokenCache, tokenHash } from '../../src/services/tokens.js';
import { type Database, openSqlite } from '../../src/store/database.js';
import { ACME, identitiesFixture, USERS } from '../helpers/iam.js';

const identity = (projectId: string): TokenIdentity => ({
  projectId,
  principal: { domainId: 'd', userName: 'u', projectIds: new Set([projectId]), policy: { allow: ['*'] } },
});

describe('TokenCache', () => {
  test('bounded: the least recently used entry goes first', () => {
    const cache = new TokenCache(3, 60_000);
    for (const h of ['a', 'b', 'c']) cache.set(h, identity(h), 1_000_000, 0);
    assert.ok(cache.get('a', 1), "cache.get('a', 1)"); // a is now the most recent
    cache.set('d', identity('d'), 1_000_000, 2);
    assert.equal(cache.size, 3);
    assert.equal(cache.get('b', 3), undefined, 'b was the least recently used');
    for (const h of ['a', 'c', 'd']) assert.ok(cache.get(h, 3), h);
    for (let i = 0; i < 100; i++) cache.set(`x${i}`, identity('x'), 1_000_000, 4);
    assert.equal(cache.size, 3);
  });

  test('an entry never outlives its token, nor the cache age', () => {
    const cache = new TokenCache(10, 60_000);
    cache.set('t', identity('p'), 5_000, 0);
    assert.ok(cache.get('t', 4_999), "cache.get('t', 4_999)");
    assert.equal(cache.get('t', 5_000), undefined, 'expired token');
    assert.equal(cache.size, 0, 'and dropped');
    cache.set('u', identity('p'), 1_000_000, 0);
    assert.ok(cache.get('u', 59_999), "cache.get('u', 59_999)");
    assert.equal(cache.get('u', 60_000), undefined, 'cached too long: ask the store again');
  });

  test('size 0 disables it', () => {
    const cache = new TokenCache(0, 60_000);
    cache.set('t', identity('p'), 5_000, 0);
    assert.equal(cache.get('t', 1), undefined);
  });
});

describe('tokens across instances (one store, two providers)', () => {
  let database: Database;
  let clock = 1_700_000_000_000;
  const now = () => clock;
  const options = { now, tokenTtlMs: 3_600_000, tokenCacheMs: 30_000 };
  let issuer: IamService;
  let a: IamIdentityProvider;
  let b: IamIdentityProvider;

  before(async () => {
    database = await openSqlite(':memory:');
    const directory = new Directory(validateIdentities(identitiesFixture()));
    issuer = new IamService(database, directory, options);
    a = new IamIdentityProvider(database, directory, options);
    b = new IamIdentityProvider(database, new Directory(validateIdentities(identitiesFixture())), options);
  });
  after(() => database.close());

  const issue = () =>
    issuer.issueToken({
      methods: ['password'],
      user: { name: 'admin', domainName: ACME.name, password: USERS.admin.password },
      scope: { projectName: ACME.p2.name },
    });

  test('a token issued through one instance is found by another, then served from its cache', async () => {
    const { token } = await issue();
    const found = await b.findToken(token);
    assert.equal(found?.projectId, ACME.p2.id);
    assert.equal(found?.principal.userName, 'admin');
    assert.equal(found?.principal.domainId, ACME.domainId);
    assert.ok(await a.findToken(token), 'await a.findToken(token)');
    // Gone from the store: the caches still answer until their entries age out.
    await database.db.deleteFrom('tokens').where('token_hash', '=', tokenHash(token)).execute();
    assert.ok(await b.findToken(token), 'cached');
    clock += 30_001;
    assert.equal(await b.findToken(token), undefined, 'the cache entry aged out and the store has no token');
  });

  test('expiry is honoured in the cache and in the store', async () => {
    const { token, expiresAt } = await issue();
    assert.ok(await a.findToken(token), 'await a.findToken(token)');
    clock = expiresAt;
    assert.equal(await a.findToken(token), undefined, 'cached, but expired');
    assert.equal(await b.findToken(token), undefined, 'not cached, expired in the store');
  });

  test('a token of a user no longer in the identities file stops working', async () => {
    const { token } = await issue();
    const changed: any = identitiesFixture();
    changed.accounts[0].users = changed.accounts[0].users.filter((u: any) => u.name !== 'admin');
    const restarted = new IamIdentityProvider(database, new Directory(validateIdentities(changed)), options);
    assert.equal(await restarted.findToken(token), undefined);
    assert.ok(await a.findToken(token), 'await a.findToken(token)');
  });

  test('tokens that are not of our format never reach the store', async () => {
    let queried = false;
    const watched = new Proxy(database.db, {
      get(target, key) {
        queried = true;
        return Reflect.get(target, key);
      },
    });
    const spy = new IamIdentityProvider({ ...database, db: watched }, new Directory(), options);
    for (const token of ['', 'x', 'Bearer abc', `dwst_${'a'.repeat(44)}`, 'dwst_!'.padEnd(48, 'a')]) {
      assert.equal(await spy.findToken(token), undefined);
    }
    assert.equal(queried, false);
  });

  test('the directory keeps the SKs in its access-key map and resolves policies', () => {
    const directory = new Directory(validateIdentities(identitiesFixture()));
    assert.equal(directory.accessKeys.get(USERS.operator.ak)?.secret, USERS.operator.sk);
    assert.deepEqual(directory.accessKeys.get(USERS.operator.ak)?.principal.policy, {
      allow: ['*'],
      deny: ['dws:openAPICluster:delete', 'kms:*'],
    });
    assert.deepEqual(
      [...directory.accessKeys.get(USERS.auditor.ak)!.principal.projectIds],
      [ACME.p1.id, ACME.p2.id],
    );
    // Plain passwords are not kept as given.
    assert.ok(
      !JSON.stringify([...directory.accessKeys.values()]).includes(USERS.admin.password),
      '!JSON.stringify([...directory.accessKeys.values()]).includes(USERS.admin.password)',
    );
  });
});
