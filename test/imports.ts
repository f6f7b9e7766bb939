export { TYPES } from "compute-region-policies/model";
export { UNKNOWN } from "compute-region-policies/engine";
