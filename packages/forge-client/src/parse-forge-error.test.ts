import { describe, expect, it } from "vitest";
import { TransportError } from "./http-transport.js";
import { parseForgeError, parseTransportError } from "./parse-forge-error.js";
import { GATEWAY_TIMEOUT_HTML } from "./stand-in/index.js";

const json = (status: number, body: unknown) => ({
  status,
  contentType: "application/json",
  text: JSON.stringify(body),
});

describe("parseForgeError", () => {
  it("maps a 422 validation list to GPU_REJECTED naming the fields", () => {
    const error = parseForgeError(
      json(422, {
        detail: [
          {
            type: "int_parsing",
            loc: ["body", "steps"],
            msg: "Input should be a valid integer",
          },
        ],
      }),
      "POST /sdapi/v1/txt2img",
    );
    expect(error.code).toBe("GPU_REJECTED");
    expect(error.serverFault).toBe(false);
    expect(error.fields).toEqual([
      { field: "steps", message: "Input should be a valid integer" },
    ]);
  });

  it("S21 maps Forge's 500 CUDA OOM body to GPU_OUT_OF_MEMORY, no server fault", () => {
    const error = parseForgeError(
      json(500, {
        error: "OutOfMemoryError",
        detail: "",
        body: "",
        message: "CUDA out of memory. Tried to allocate 2 GiB",
      }),
      "POST /sdapi/v1/txt2img",
    );
    expect([error.code, error.serverFault, error.retryable]).toEqual([
      "GPU_OUT_OF_MEMORY",
      false,
      false,
    ]);
  });

  it("treats rejected parameters sent as a 500 as GPU_REJECTED", () => {
    for (const message of [
      "argument of type 'NoneType' is not iterable",
      "You do not have VAE state dict!",
      "could not find upscaler named foo",
      "model 'x' not found",
    ]) {
      const error = parseForgeError(
        json(500, { error: "E", detail: "", body: "", message }),
        "r",
      );
      expect([error.code, error.serverFault]).toEqual(["GPU_REJECTED", false]);
    }
    const detail = parseForgeError(
      json(500, { detail: "Invalid encoded image" }),
      "r",
    );
    expect(detail.code).toBe("GPU_REJECTED");
    const init = parseForgeError(
      json(404, { detail: "Init image not found" }),
      "r",
    );
    expect(init.code).toBe("GPU_REJECTED");
  });

  it("counts an unexpected 500 as a retryable server fault (A1111's errors too)", () => {
    const forge = parseForgeError(
      json(500, {
        error: "RuntimeError",
        detail: "",
        body: "",
        message: "boom",
      }),
      "r",
    );
    expect([forge.code, forge.serverFault, forge.retryable]).toEqual([
      "GPU_ERROR",
      true,
      true,
    ]);
    const a1111 = parseForgeError(
      json(500, {
        error: "RuntimeError",
        detail: "",
        body: "",
        errors: "boom",
      }),
      "r",
    );
    expect(a1111.detail).toContain("boom");
  });

  it("S22 classifies an HTML 504 from a proxy as an unknown outcome", () => {
    const error = parseForgeError(
      { status: 504, contentType: "text/html", text: GATEWAY_TIMEOUT_HTML },
      "r",
    );
    expect([
      error.code,
      error.outcomeUnknown,
      error.serverFault,
      error.retryable,
    ]).toEqual(["GPU_UNAVAILABLE", true, false, true]);
    const bad = parseForgeError(
      { status: 502, contentType: "text/html", text: "<html>502</html>" },
      "r",
    );
    expect([bad.outcomeUnknown, bad.serverFault]).toEqual([true, true]);
  });

  it("maps 401 and a missing --api route to non-retryable server faults", () => {
    const auth = parseForgeError(
      json(401, { detail: "Not authenticated" }),
      "r",
    );
    expect([auth.code, auth.retryable, auth.serverFault]).toEqual([
      "GPU_UNAVAILABLE",
      false,
      true,
    ]);
    const route = parseForgeError(json(404, { detail: "Not Found" }), "r");
    expect([route.code, route.serverFault]).toEqual(["GPU_ERROR", true]);
  });
});

describe("parseTransportError", () => {
  it("refused is unavailable with a known outcome; reset and timeout are unknown", () => {
    const refused = parseTransportError(
      new TransportError("refused", "ECONNREFUSED"),
      "r",
    );
    expect([refused.code, refused.outcomeUnknown, refused.serverFault]).toEqual(
      ["GPU_UNAVAILABLE", false, true],
    );
    const reset = parseTransportError(
      new TransportError("reset", "ECONNRESET"),
      "r",
    );
    expect([reset.code, reset.outcomeUnknown]).toEqual([
      "GPU_UNAVAILABLE",
      true,
    ]);
    const timeout = parseTransportError(
      new TransportError("timeout", "deadline"),
      "r",
    );
    expect([timeout.code, timeout.outcomeUnknown, timeout.retryable]).toEqual([
      "GPU_ERROR",
      true,
      true,
    ]);
  });
});
