import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The server serves dist/ui; `pnpm chat` builds it, then starts the server.
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ["@imagejobs/source"] },
  build: { outDir: "dist/ui", emptyOutDir: true },
  server: {
    proxy: {
      "/api": "http://localhost:3000",
      "/images": "http://localhost:3000",
      "/ws": { target: "ws://localhost:3000", ws: true },
    },
  },
});
