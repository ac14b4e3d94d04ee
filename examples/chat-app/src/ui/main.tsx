import { ImageJobClient } from "@imagejobs/core/client";
import { ImageJobsProvider } from "@imagejobs/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.js";
import "./styles.css";

// The socket carries the identity cookie; the server scopes it to this user.
const client = new ImageJobClient({
  url: () =>
    `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`,
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ImageJobsProvider client={client}>
      <App />
    </ImageJobsProvider>
  </StrictMode>,
);
