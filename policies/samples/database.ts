import { DATA_TYPES } from "../model/domain/types";
import { sample } from "./sample";

/** A database that passes every database policy; samples change one thing at a time. */
export const goodDatabase = {
    engine: "postgres",
    engineVersion: "16",
    instanceClass: "db.r6g.large",
    storageEncrypted: true,
    kmsKeyId: "arn:aws:kms:us-east-2:111122223333:key/1",
    multiAz: true,
    publiclyAccessible: false,
    backupRetentionPeriod: 14,
    deletionProtection: true,
    skipFinalSnapshot: false,
    finalSnapshotIdentifier: "billing-final",
    manageMasterUserPassword: true,
    username: "billing_admin",
};

export function database(changes: Record<string, unknown> = {}, drop: string[] = []) {
    const props: Record<string, unknown> = { ...goodDatabase, ...changes };
    for (const k of drop) delete props[k];
    return sample(DATA_TYPES.rdsInstance, "billing", props, { protect: true });
}
