export * from "./snapshot";
export * from "./wire";
