/**
 * The components served to every Pulumi language (YAML, Python, Go, .NET, Java) by this plugin
 * (PulumiPlugin.yaml beside this file). Pulumi's schema inference reads this file's exports and the
 * classes' Args types (node_modules/@pulumi/pulumi/provider/experimental/analyzer.js): the same
 * classes TypeScript programs import, so the two cannot drift. Each is constructed as
 * `compute-region:index:<Name>`.
 */
export { Region } from "../components/region";
export { Network } from "../components/network";
export { Cluster } from "../components/cluster";
export { GpuNodeGroup } from "../components/gpu-node-group";
export { Tenant } from "../components/tenant";
export { ServingPlatform } from "../components/serving-platform";
export { ModelGateway } from "../components/model-gateway";
export { ThreatDetection } from "../components/threat-detection";
