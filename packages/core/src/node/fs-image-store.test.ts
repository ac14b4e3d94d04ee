import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsImageStore } from "./fs-image-store.js";

describe("FsImageStore", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "imagejobs-images-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("stores, reads and deletes an image under its key", async () => {
    const store = new FsImageStore({ root, urlFor: (key) => `/i/${key}` });
    const data = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
    const { url } = await store.put({
      key: "job-1/0-a.png",
      data,
      contentType: "image/png",
    });
    expect(url).toBe("/i/job-1/0-a.png");
    expect(await store.get("job-1/0-a.png")).toEqual({
      data,
      contentType: "image/png",
    });
    expect(await readdir(join(root, "job-1"))).toEqual(["0-a.png"]);

    await store.delete(["job-1/0-a.png", "job-1/missing.png"]);
    expect(await store.get("job-1/0-a.png")).toBeNull();
  });

  it("refuses keys that would leave its folder", async () => {
    const store = new FsImageStore({ root });
    for (const key of ["../escape.png", "/etc/passwd", "a/../../b.png", ""]) {
      expect(await store.get(key)).toBeNull();
    }
    await expect(
      store.put({
        key: "../x.png",
        data: new Uint8Array(1),
        contentType: "image/png",
      }),
    ).rejects.toThrow(/not allowed/);
  });
});
