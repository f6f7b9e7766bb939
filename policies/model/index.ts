export * from "./cidr";
export * from "./conventions";
export * from "./types";
