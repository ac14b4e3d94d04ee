import react from "@vitejs/plugin-react";
import { defaultClientConditions, defineConfig } from "vite";

// The server serves dist/ui; `pnpm chat` builds it, then starts the server.
export default defineConfig({
  plugins: [react()],
  // Workspace packages build from source, so no package build comes first.
  resolve: { conditions: ["@imagejobs/source", ...defaultClientConditions] },
  build: { outDir: "dist/ui", emptyOutDir: true },
  server: {
    proxy: {
      "/api": "http://localhost:3000",
      "/images": "http://localhost:3000",
      "/ws": { target: "ws://localhost:3000", ws: true },
    },
  },
});
