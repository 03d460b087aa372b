/**
 * The deployment recipes users copy, read as a cluster, Compose or CI would read them: the Kubernetes
 * Deployment and Service, the Compose file and the GitHub Actions `services:` snippet in
 * docs/deploy.md; and the lock file, which must name every platform's runtime binary so that
 * `npm ci` on a Mac, Windows or an arm64 Linux installs Deno and Bun.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse, parseAllDocuments } from "yaml";
import { ROOT } from "./support/server.ts";
import { DEFAULTS } from "../lib/config.ts";

const read = (path: string) => readFileSync(`${ROOT}${path}`, "utf8");
const HEALTHCHECK = ["/usr/local/bin/echo-ws", "healthcheck"];

// deno-lint-ignore no-explicit-any
type Doc = any;

/** A variable's value in a Kubernetes `env` list, or undefined. */
function envValue(env: Array<{ name: string; value: string }> | undefined, name: string): string | undefined {
  return env?.find((entry) => entry.name === name)?.value;
}

describe("deploy/kubernetes.yaml", () => {
  const docs: Doc[] = parseAllDocuments(read("deploy/kubernetes.yaml")).map((doc) => doc.toJS());
  const deployment = docs.find((doc) => doc.kind === "Deployment");
  const service = docs.find((doc) => doc.kind === "Service");
  const pod = deployment?.spec.template.spec;
  const container = pod?.containers[0];

  test("a Deployment and a Service that selects its pods on the container's port", () => {
    assert.ok(deployment && service);
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
    assert.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels);
    const port = container.ports.find((p: Doc) => p.name === service.spec.ports[0].targetPort);
    assert.equal(port?.containerPort, 8181);
  });

  test("non-root, read-only root file system, no capabilities, no privilege escalation", () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, 10001);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
    assert.equal(container.securityContext.capabilities.add, undefined);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  });

  test("liveness runs the healthcheck subcommand; readiness asks /readyz", () => {
    assert.deepEqual(container.livenessProbe.exec.command, HEALTHCHECK);
    assert.equal(container.readinessProbe.httpGet.path, "/readyz");
    assert.ok(container.ports.some((p: Doc) => p.name === container.readinessProbe.httpGet.port));
  });

  test("terminationGracePeriodSeconds is above SHUTDOWN_GRACE_SECONDS", () => {
    const grace = Number(envValue(container.env, "SHUTDOWN_GRACE_SECONDS") ?? DEFAULTS.shutdownGraceSeconds);
    assert.ok(pod.terminationGracePeriodSeconds > grace, `${pod.terminationGracePeriodSeconds} > ${grace}`);
  });
});

describe("deploy/compose.yaml", () => {
  const echo = parse(read("deploy/compose.yaml")).services.echo;

  test("the image on 8181 with the healthcheck subcommand", () => {
    assert.match(echo.image, /^echo-ws:/);
    assert.ok(echo.ports.includes("8181:8181"));
    assert.deepEqual(echo.healthcheck.test, ["CMD", ...HEALTHCHECK]);
  });

  test("read-only, no capabilities, and a stop grace period above SHUTDOWN_GRACE_SECONDS", () => {
    assert.equal(echo.read_only, true);
    assert.deepEqual(echo.cap_drop, ["ALL"]);
    const grace = Number(echo.environment?.SHUTDOWN_GRACE_SECONDS ?? DEFAULTS.shutdownGraceSeconds);
    assert.ok(Number(/^(\d+)s$/.exec(echo.stop_grace_period)?.[1]) > grace, echo.stop_grace_period);
  });
});

describe("docs/deploy.md, CI services", () => {
  const section = read("docs/deploy.md").split(/^## /m).find((part) => part.startsWith("CI services"));
  const snippet = /```yaml\n([\s\S]*?)```/.exec(section ?? "")?.[1];

  test("a GitHub Actions services: entry that waits for the healthcheck subcommand", () => {
    assert.ok(snippet, "a yaml block under ## CI services");
    const echo = parse(snippet).jobs.test.services.echo;
    assert.match(echo.image, /echo-ws:/);
    assert.ok(echo.ports.includes("8181:8181"));
    assert.match(echo.options, new RegExp(`--health-cmd "${HEALTHCHECK.join(" ")}"`));
  });
});

describe("package-lock.json", () => {
  const lock = JSON.parse(read("package-lock.json"));

  test("every optional platform package a dependency names is locked (Deno and Bun for every OS)", () => {
    const missing = Object.entries(lock.packages as Record<string, Doc>).flatMap(([path, entry]) =>
      Object.keys(entry.optionalDependencies ?? {})
        .filter((name) => !(`node_modules/${name}` in lock.packages))
        .map((name) => `${path} → ${name}`)
    );
    assert.deepEqual(missing, []);
    for (const platform of ["darwin-arm64", "darwin-x64", "linux-arm64-glibc", "win32-arm64", "win32-x64"]) {
      assert.ok(`node_modules/@deno/${platform}` in lock.packages, platform);
    }
  });
});
