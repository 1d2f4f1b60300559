import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Permission names (README, docs/iam.md), by operationId. */
const PERMISSIONS: Record<string, string> = {
  ShowClusterEncryptInfo: 'dws:cluster:getEncryptInfo',
  EncryptCluster: 'dws:cluster:encrypt',
  RotateKey: 'dws:cluster:rotateKey',
  ListJobDetails: 'dws:service:listJobDetail',
  CreateCluster: 'dws:openAPICluster:create',
  ListClusters: 'dws:openAPICluster:list',
  ShowClusterDetail: 'dws:openAPICluster:getDetail',
  DeleteCluster: 'dws:openAPICluster:delete',
  ShowClusters: 'dws:openAPICluster:list',
  CreateClusterV1: 'dws:openAPICluster:create',
  DeleteDwsCluster: 'dws:openAPICluster:delete',
  CreateKey: 'kms:cmk:create',
  DescribeKey: 'kms:cmk:get',
  ListKeys: 'kms:cmk:list',
  EnableKey: 'kms:cmk:enable',
  DisableKey: 'kms:cmk:disable',
  DeleteKey: 'kms:cmk:scheduleDeletion',
  CancelKeyDeletion: 'kms:cmk:cancelDeletion',
  CreateDatakey: 'kms:dek:create',
  EncryptDatakey: 'kms:dek:encrypt',
  DecryptDatakey: 'kms:dek:decrypt',
};

/** Paths that are the documentation itself or static files, not operations. */
// The last: a surface's unknown paths (answered 404 on that surface, see declareSurface).
const NOT_OPERATIONS = [/^\/docs(\/|$)/, /^\/openapi\.json$/, /^\/console(\/|\*|$)/, /(^|\/)\*$/];

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];

/**
 * Every (method, path) the app routes, read from `app.printRoutes({ commonPrefix: false })`: a tree
 * whose lines are `<drawing><segment> (<METHODS>)`, each level indented by four columns. HEAD routes
 * added automatically for GET routes are left out.
 */
function routesOf(tree: string): Array<{ method: string; path: string }> {
  const routes: Array<{ method: string; path: string }> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│├└─\s]*?)(?:[├└]── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of (m[3] ?? '').split(',').map((x) => x.trim())) {
      if (method && method !== 'HEAD') routes.push({ method: method.toLowerCase(), path });
    }
  }
  return routes;
}

function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Every `$ref` in the document resolves within it. */
function unresolvedRefs(doc: any): string[] {
  const missing: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          const target = value
            .replace(/^#\//, '')
            .split('/')
            .reduce<any>((at, part) => (at === undefined ? undefined : at[part]), doc);
          if (target === undefined) missing.push(value);
        } else visit(value);
      }
    }
  };
  visit(doc);
  return missing;
}

describe('OpenAPI document', () => {
  let ts: TestServer;
  let doc: any;
  before(async () => {
    ts = await startTestServer();
    const res = await fetch(`${ts.baseUrl}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    doc = await res.json();
  });
  after(async () => {
    await ts.close({ removeData: true });
  });

  test('is an OpenAPI 3 document with info, paths and the ErrorBody component', () => {
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.match(doc.info.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof doc.paths, 'object');
    assert.deepEqual(Object.keys(doc.components.schemas.ErrorBody.properties).sort(), [
      'canonical_request',
      'error_code',
      'error_msg',
      'string_to_sign',
    ]);
    assert.deepEqual(doc.components.schemas.ErrorBody.required.sort(), ['error_code', 'error_msg']);
    assert.ok(doc.components.securitySchemes.sdkHmacSha256, 'doc.components.securitySchemes.sdkHmacSha256');
    assert.deepEqual(unresolvedRefs(doc), []);
  });

  test('every route of the app is in the document, and every operation is a route', () => {
    const routes = routesOf(ts.server.app.printRoutes({ commonPrefix: false })).filter(
      (r) => !NOT_OPERATIONS.some((re) => re.test(r.path)),
    );
    assert.ok(routes.length >= 21, `expected the API and ops routes, found ${routes.length}`);
    for (const { method, path } of routes) {
      assert.ok(
        doc.paths[toOpenApiPath(path)]?.[method],
        `${method.toUpperCase()} ${path} is not documented`,
      );
    }
    const documented = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) =>
      METHODS.filter((m) => item[m]).map((m) => `${m} ${path}`),
    );
    const routed = new Set(routes.map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
    for (const op of documented) assert.ok(routed.has(op), `${op} is documented but not routed`);
  });

  test('every operation has an operationId, a 2xx answer, error answers and its permission', () => {
    const seen = new Set<string>();
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of METHODS.filter((m) => item[m])) {
        const op = item[method];
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(op.operationId, `${where} has no operationId`);
        assert.ok(!seen.has(op.operationId), `operationId ${op.operationId} is used twice`);
        seen.add(op.operationId);
        assert.ok(Array.isArray(op.tags) && op.tags.length > 0, `${where} has no tag`);

        const codes = Object.keys(op.responses);
        assert.ok(
          codes.some((c) => /^2\d\d$/.test(c)),
          `${where} has no 2xx answer`,
        );
        const errors = codes.filter((c) => /^[45]\d\d$/.test(c));
        assert.ok(errors.length > 0, `${where} has no error answer`);
        for (const code of errors) {
          assert.equal(
            op.responses[code].content['application/json'].schema.$ref,
            '#/components/schemas/ErrorBody',
            `${where} ${code} is not an ErrorBody`,
          );
        }

        if (op['x-public'] === true) {
          // Public operations (health, readiness, metrics, ...) check no permission and need no signature.
          assert.equal(op['x-permission'], undefined, `${where} is public`);
          assert.deepEqual(op.security, []);
          continue;
        }
        for (const code of ['400', '401', '403', '404', '500', '503']) {
          assert.ok(codes.includes(code), `${where} does not document ${code}`);
        }
        const permission = PERMISSIONS[op.operationId];
        assert.match(
          op['x-permission'] ?? '',
          /^[a-z]+:[A-Za-z]+:[A-Za-z]+$/,
          `${where} has no x-permission`,
        );
        if (permission) assert.equal(op['x-permission'], permission, `${where} x-permission`);
        assert.ok(op.description.includes(op['x-permission']), `${where} description names its permission`);
        assert.deepEqual(op.security, [{ sdkHmacSha256: [] }, { iamToken: [] }]);
      }
    }
    for (const operationId of Object.keys(PERMISSIONS)) {
      assert.ok(seen.has(operationId), `${operationId} is missing`);
    }
    for (const operationId of ['Healthz', 'Readyz', 'Metrics']) {
      assert.ok(seen.has(operationId), `${operationId} is missing`);
      const op = Object.values<any>(doc.paths).find((item) => item.get?.operationId === operationId).get;
      assert.equal(op['x-public'], true, `${operationId} is public`);
    }
  });

  test('request bodies and parameters come from the route schemas', () => {
    const encrypt = doc.paths['/v2/{project_id}/clusters/{cluster_id}/encrypt'].post;
    const names = encrypt.parameters.map((p: any) => `${p.in}:${p.name}`).sort();
    assert.deepEqual(names, ['path:cluster_id', 'path:project_id']);
    const body = encrypt.requestBody.content['application/json'].schema;
    const algorithms = body.properties.encrypt.properties.crypt_algorithm.anyOf.flatMap((s: any) => s.enum);
    assert.deepEqual(algorithms, ['generalCipher', 'SMcompatible']);
    assert.deepEqual(body.properties.encrypt.required.sort(), ['crypt_algorithm', 'master_key_id']);
    const info = doc.paths['/v1/{project_id}/clusters/{cluster_id}/encrypt-info'].get;
    assert.deepEqual(
      Object.keys(info.responses['200'].content['application/json'].schema.properties).sort(),
      ['cluster_id', 'crypt_algorithm', 'id', 'last_rotate_key_time', 'master_key_id', 'master_key_name'],
    );
  });

  test('the document and the interactive reference need no authentication', async () => {
    const docs = await fetch(`${ts.baseUrl}/docs/`);
    assert.equal(docs.status, 200);
    const html = await docs.text();
    assert.match(html, /swagger-ui/i);
    // Assets from this origin only: no CDN.
    assert.doesNotMatch(html, /<(script|link)[^>]+(src|href)="https?:\/\//i);
    const csp = docs.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    const bundle = await fetch(`${ts.baseUrl}/docs/static/swagger-ui-bundle.js`);
    assert.equal(bundle.status, 200);
    await bundle.arrayBuffer();
    const init = await (await fetch(`${ts.baseUrl}/docs/static/swagger-initializer.js`)).text();
    assert.match(init, /url: resolveUrl\('\.\/json'\)/, 'the UI loads the spec from this origin');
  });
});
