"use client";
import type { ImageJobClient } from "@imagejobs/core/client";
import { createContext, type ReactNode, useContext } from "react";

const ClientContext = createContext<ImageJobClient | null>(null);

/** Props of {@link ImageJobsProvider}. */
export interface ImageJobsProviderProps {
  /** The client store every hook below reads. */
  readonly client: ImageJobClient;
  /** The app. */
  readonly children?: ReactNode;
}

/** Hands one {@link ImageJobClient} to the hooks below it. */
export function ImageJobsProvider(props: ImageJobsProviderProps) {
  return (
    <ClientContext.Provider value={props.client}>
      {props.children}
    </ClientContext.Provider>
  );
}

/** The provider's client; throws outside an {@link ImageJobsProvider}. */
export function useImageJobClient(): ImageJobClient {
  const client = useContext(ClientContext);
  if (!client) {
    throw new Error(
      "useImageJobClient must be used inside <ImageJobsProvider>",
    );
  }
  return client;
}
