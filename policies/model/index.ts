export * from "./capacity";
export * from "./capacity-evidence";
export * from "./cidr";
export * from "./conventions";
export * from "./gpu-catalog";
export * from "./types";
export * from "./isolation-evidence";
export * from "./reachability";
