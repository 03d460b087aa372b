import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { requestTarget } from "./target.ts";

describe("requestTarget", () => {
  test("a URL without a query: its path, and no query", () => {
    assert.deepEqual(requestTarget(new Request("http://echo.test").url), {
      path: "/",
      query: null,
      search: "",
    });
    assert.deepEqual(requestTarget("http://127.0.0.1:8181/room/a"), {
      path: "/room/a",
      query: null,
      search: "",
    });
  });

  test("a URL with a query: the path before it and its parameters, decoded", () => {
    const { path, query, search } = requestTarget("http://echo.test:80/a/b/?tag=a%20b&delay=10&tag=two");
    assert.equal(path, "/a/b/");
    assert.equal(search, "tag=a%20b&delay=10&tag=two", "as sent, still encoded");
    assert.deepEqual([...query!], [["tag", "a b"], ["delay", "10"], ["tag", "two"]]);
  });

  test("an empty query is a query with no parameters", () => {
    const { path, query } = requestTarget("http://echo.test/x?");
    assert.equal(path, "/x");
    assert.deepEqual([...query!], []);
  });

  test("the path agrees with URL's for what runtimes hand over", () => {
    for (const url of ["http://h/", "http://h/caf%C3%A9", "https://h:443/a;b/c", "http://[::1]:8181/x?y=1"]) {
      assert.equal(requestTarget(url).path, new URL(url).pathname, url);
    }
  });
});
