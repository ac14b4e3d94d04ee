import { describe, expect, it } from "vitest";
import { readChatConfig } from "./chat-config.js";

describe("readChatConfig", () => {
  it("defaults to port 3000 and one stand-in", () => {
    expect(readChatConfig({})).toEqual({
      port: 3000,
      forgeUrls: [],
      forgeAuth: null,
      notices: [],
    });
  });

  it("reads several Forge servers and their credentials", () => {
    const config = readChatConfig({
      PORT: "8080",
      FORGE_URL: "http://gpu-1:7860, http://gpu-2:7860/,",
      FORGE_AUTH: "forge:s3cret:with-colon",
    });
    expect(config.port).toBe(8080);
    expect(config.forgeUrls).toEqual([
      "http://gpu-1:7860",
      "http://gpu-2:7860/",
    ]);
    expect(config.forgeAuth).toEqual({
      username: "forge",
      password: "s3cret:with-colon",
    });
  });

  it("says that Redis and PostgreSQL are not supported yet", () => {
    const { notices } = readChatConfig({
      REDIS_URL: "redis://127.0.0.1:6379",
      DATABASE_URL: "postgres://postgres@127.0.0.1/test",
    });
    expect(notices).toHaveLength(2);
    expect(notices[0]).toMatch(/^REDIS_URL .* not support it yet/);
    expect(notices[1]).toMatch(/^DATABASE_URL .* not support it yet/);
  });

  it("refuses settings it cannot use, naming them", () => {
    expect(() => readChatConfig({ PORT: "abc" })).toThrow(/PORT/);
    expect(() => readChatConfig({ FORGE_URL: "gpu-1:7860" })).toThrow(
      /FORGE_URL/,
    );
    expect(() => readChatConfig({ FORGE_AUTH: "nocolon" })).toThrow(
      /FORGE_AUTH/,
    );
  });
});
