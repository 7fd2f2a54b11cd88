/** The one masker's rules (src/core/mask.ts); every output path is tested with one fixture in test/e2e/masking.test.ts. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { defaultMasker, looksSecret, MASK, Masker, maskedWriter } from "../../src/core/mask.ts";

describe("masker: which names look secret", () => {
  it("recognises secret words in any spelling: SNAKE, kebab, camelCase, glued, with digits", () => {
    const secret = [
      "DB_PASSWORD", "db-password", "dbPassword", "DBPASSWORD", "PASSWD", "PGPASSWORD", "MYSQL_ROOT_PASSWORD", "PASS", "SMTP_PASS", "DB_PWD", "PASSPHRASE",
      "GITHUB_TOKEN", "x-auth-token", "AWS_SESSION_TOKEN", "authToken", "SECRET_KEY_BASE", "CLIENT_SECRET", "client_secret", "AWS_SECRET_ACCESS_KEY",
      "API_KEY", "api_key", "apiKey", "x-api-key", "APIKEY", "PRIVATE_KEY", "privateKey", "SSH_KEY2", "STRIPE_KEY", "ENCRYPTION_KEYS",
      "GOOGLE_CREDENTIALS", "credentials", "CREDS", "AUTH", "OAUTH_CLIENT", "Authorization", "Proxy-Authorization", "SENTRY_DSN", "DSN",
      "DB_CONN_STR", "CONNECTION_STRING", "connectionString", "SESSION_COOKIE", "Set-Cookie", "X-Amz-Signature", "HMAC", "JWT", "PASSWORD_SALT",
      // An identifier that travels with its secret: masked on purpose (err on the side of masking).
      "AWS_ACCESS_KEY_ID",
    ];
    for (const name of secret) assert.ok(looksSecret(name), name);
  });

  it("leaves ordinary names alone, including words that only contain a secret word", () => {
    for (const name of ["LOG_LEVEL", "PORT", "REGION", "FEATURE_FLAGS", "DATABASE_HOST", "MONKEY_COUNT", "KEYCLOAK_REALM", "AUTHOR", "AUTHORITY", "PASSENGER_LIMIT", "BYPASS_CACHE", "COMPASS_URL", "image", "containerPort", "valueFrom", "name", "value", "cluster"]) {
      assert.ok(!looksSecret(name), name);
    }
  });

  it("takes extra words from the configuration, matched as whole words", () => {
    const m = new Masker({ secretNames: ["license", "PIN_CODE"] });
    assert.ok(m.looksSecret("APP_LICENSE") && m.looksSecret("licenseKey") && m.looksSecret("CARD_PIN_CODE"));
    assert.ok(!m.looksSecret("LICENSED_USERS") && !m.looksSecret("PIN"));
    assert.ok(!defaultMasker.looksSecret("APP_LICENSE"));
  });
});

describe("masker: text", () => {
  const t = (s: string) => defaultMasker.text(s);
  it("hides the password of a URL and keeps the user and host", () => {
    assert.equal(t("postgres://user:pw@host:5432/db"), `postgres://user:${MASK}@host:5432/db`);
    assert.equal(t("DATABASE_URL is mysql://root:p@ss@db/x, ok"), `DATABASE_URL is mysql://root:${MASK}@db/x, ok`);
    assert.equal(t("redis://:onlypassword@cache:6379"), `redis://:${MASK}@cache:6379`);
    assert.equal(t("https://ghp_abcdef123456@github.com/o/r.git"), `https://${MASK}@github.com/o/r.git`, "a lone user of a web URL is a token");
    assert.equal(t("ssh://git@github.com/o/r"), "ssh://git@github.com/o/r");
    assert.equal(t("https://example.com/a@b"), "https://example.com/a@b");
  });

  it("hides NAME=value, --flag=value and ?query=value pairs whose names look secret", () => {
    assert.equal(t("export DB_PASSWORD=hunter2 LOG_LEVEL=info"), `export DB_PASSWORD=${MASK} LOG_LEVEL=info`);
    assert.equal(t('run --db-password="s3 cr3t" --port=80'), `run --db-password="${MASK}" --port=80`);
    assert.equal(t("https://h/x?api_key=abc123&page=2&X-Amz-Signature=deadbeef"), `https://h/x?api_key=${MASK}&page=2&X-Amz-Signature=${MASK}`);
  });

  it("hides JSON pairs and bearer credentials inside text, and keeps ARNs and prose", () => {
    assert.equal(t('{"password":"x1","user":"u"}'), `{"password":"${MASK}","user":"u"}`);
    assert.equal(t('[{"name":"DB_PASSWORD","value":"hunter2"}]'), `[{"name":"DB_PASSWORD","value":"${MASK}"}]`);
    assert.equal(t("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y"), `Authorization: Bearer ${MASK}`);
    assert.equal(t('{"secretArn":"arn:aws:secretsmanager:us-east-1:1:secret:x"}'), '{"secretArn":"arn:aws:secretsmanager:us-east-1:1:secret:x"}');
    assert.equal(t("Bearer tokens are checked; Basic authentication is off"), "Bearer tokens are checked; Basic authentication is off");
  });

  it("hides the given sensitive strings anywhere, longest first", () => {
    const m = new Masker({ sensitive: ["LIC-8f3a9c", "LIC-8f3a9c-extra"] });
    assert.equal(m.text("--license=LIC-8f3a9c-extra and LIC-8f3a9c"), `--license=${MASK} and ${MASK}`);
  });

  it("masks what a writer writes", () => {
    const lines: string[] = [];
    maskedWriter((s) => lines.push(s))("sync of postgres://a:b@c failed\n");
    assert.deepEqual(lines, [`sync of postgres://a:${MASK}@c failed\n`]);
  });
});

describe("masker: documents", () => {
  it("hides values by name (environment pairs, labels, options, headers) and that value wherever else it appears", () => {
    const doc = {
      containerDefinitions: [
        {
          command: ["sh", "-c", "psql --password hunter2-pass"],
          environment: [{ name: "DB_PASSWORD", value: "hunter2-pass" }, { name: "LOG_LEVEL", value: "info" }, { name: "TOKEN_TTL", value: "3600" }],
          secrets: [{ name: "API_TOKEN", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCd" }],
          dockerLabels: { "traefik.http.middlewares.auth.basicauth.users": "admin:$apr1$x", team: "web" },
          logConfiguration: { logDriver: "splunk", options: { "splunk-token": "0000-aaaa", "splunk-url": "https://splunk:8088" } },
          repositoryCredentials: { credentialsParameter: "arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub" },
          privileged: false,
          portMappings: [{ containerPort: 3600 }],
        },
      ],
    };
    const out = JSON.stringify(defaultMasker.value(doc));
    assert.ok(!out.includes("hunter2-pass") && !out.includes("0000-aaaa") && !out.includes("$apr1$x"), out);
    assert.match(out, /"name":"LOG_LEVEL","value":"info"/);
    assert.match(out, /"valueFrom":"arn:aws:secretsmanager/);
    assert.match(out, /"credentialsParameter":"arn:aws:secretsmanager/);
    assert.match(out, /"splunk-url":"https:\/\/splunk:8088"/);
    assert.match(out, /"containerPort":3600/, "a short or numeric secret is hidden where it stands, not hunted elsewhere");
    assert.match(out, /"privileged":false/);
  });

  it("treats ECS tags ({key, value}) like environment pairs: the key is a name, the value hidden when it looks secret", () => {
    const out = defaultMasker.value({ tags: [{ key: "env", value: "dev" }, { key: "deploy-token", value: "t-123456" }, { Key: "Team", Value: "web" }] });
    assert.deepEqual(out, { tags: [{ key: "env", value: "dev" }, { key: "deploy-token", value: MASK }, { Key: "Team", Value: "web" }] });
  });

  it("answers (Flotilla's own records) keep reference fields, and still hide URLs, pairs and text", () => {
    const answer = { name: "shop", url: "https://x-access-token:ghs_abc123@github.com/o/r.git", credentials: "github-deploy", events: [{ message: "DB_PASSWORD=hunter2 rejected" }], env: [{ name: "API_KEY", value: "k-123456" }] };
    assert.deepEqual(defaultMasker.answer(answer), { name: "shop", url: `https://x-access-token:${MASK}@github.com/o/r.git`, credentials: "github-deploy", events: [{ message: `DB_PASSWORD=${MASK} rejected` }], env: [{ name: "API_KEY", value: MASK }] });
  });

  it("does not change its input", () => {
    const doc = { environment: [{ name: "DB_PASSWORD", value: "hunter2" }] };
    defaultMasker.value(doc);
    assert.equal(doc.environment[0]!.value, "hunter2");
  });
});
