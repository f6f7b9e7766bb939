// Entry point of the Pulumi program (Pulumi.yaml `main` points at its compiled form). The engine
// calls an exported function and uses what it returns as the stack outputs.
import { regionProgram } from "./program";

export = regionProgram;
