import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { componentOptions, componentType } from "./component-type";
import { INVOCATION_LOG_TAG, invocationLogGroupName, NAMESPACES } from "compute-region-policies/model";
import { AwsContext, keyPolicy } from "./kms";

export interface InvocationLogsArgs {
    /** The literal cluster name (the log group's name). */
    clusterName: string;
    /** How long the log group keeps the lines, days. */
    retentionDays: number;
    aws: AwsContext;
    tags: Record<string, string>;
}

/**
 * The Fluent Bit configuration that takes the gateway's access lines out of the CloudWatch add-on's
 * application stream and ships them, as Envoy wrote them, to the invocation log group. It is an extra
 * file of the add-on's Fluent Bit (containerLogs.fluentBit.config.extraFiles: every key is written
 * to its ConfigMap and @INCLUDEd, aws-observability/helm-charts amazon-cloudwatch-observability-6.4.0
 * charts/amazon-cloudwatch-observability/templates/linux/fluent-bit-configmap.yaml), beside the
 * add-on's own application-log.conf, whose tail input tags every container's lines
 * `application.var.log.containers.<pod>_<namespace>_<container>-<id>.log` (values.yaml). The rewrite
 * filter re-tags the Envoy containers' stdout lines of the gateway namespace (the access log; Envoy's
 * own log is stderr) and drops them from the application stream; the output writes the raw line
 * (`log_key log`) to the group this component made with its key and retention (no auto-create).
 */
export function invocationLogFluentBitConfig(logGroupName: string): string {
    return [
        "[FILTER]",
        "    Name          rewrite_tag",
        `    Match         application.var.log.containers.*_${NAMESPACES.gateway}_envoy-*`,
        `    Rule          $stream ^stdout$ ${INVOCATION_LOG_TAG} false`,
        "    Emitter_Name  gateway_invocations",
        "",
        "[OUTPUT]",
        "    Name                cloudwatch_logs",
        `    Match               ${INVOCATION_LOG_TAG}`,
        "    region              ${AWS_REGION}",
        `    log_group_name      ${logGroupName}`,
        "    log_stream_prefix   ${HOST_NAME}-",
        "    auto_create_group   false",
        "    log_key             log",
        "",
    ].join("\n");
}

/** The name of the add-on's extra Fluent Bit file. */
export const INVOCATION_LOG_FLUENT_BIT_FILE = "invocation-log.conf";

/**
 * Where invocation logs are kept: a log group of their own, encrypted with a customer-managed key of
 * their own (rotated, protected, usable by CloudWatch Logs for this account's log groups only) and
 * bound by the configured retention. The add-on's Fluent Bit writes to it (its role's
 * CloudWatchAgentServerPolicy allows PutLogEvents; CloudWatch Logs, not the writer, uses the key).
 */
export class InvocationLogs extends pulumi.ComponentResource {
    public readonly logGroup: aws.cloudwatch.LogGroup;
    public readonly logGroupName: string;
    /** The add-on's extra Fluent Bit files that ship the lines here. */
    public readonly fluentBitFiles: Record<string, string>;

    constructor(name: string, args: InvocationLogsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("InvocationLogs"), name, {}, componentOptions("InvocationLogs", opts));
        const key = new aws.kms.Key(
            `${name}-key`,
            {
                description: `Invocation logs of the model gateway of ${args.clusterName}`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: keyPolicy({ ...args.aws, allowCloudWatchLogs: true }),
                tags: { ...args.tags, Name: `${args.clusterName}-invocation-logs` },
            },
            { parent: this, protect: true },
        );
        new aws.kms.Alias(`${name}-key`, { name: `alias/${args.clusterName}-invocation-logs`, targetKeyId: key.keyId }, { parent: this });
        this.logGroupName = invocationLogGroupName(args.clusterName);
        this.logGroup = new aws.cloudwatch.LogGroup(
            `${name}-group`,
            { name: this.logGroupName, retentionInDays: args.retentionDays, kmsKeyId: key.arn, tags: args.tags },
            { parent: this, protect: true },
        );
        this.fluentBitFiles = { [INVOCATION_LOG_FLUENT_BIT_FILE]: invocationLogFluentBitConfig(this.logGroupName) };
        this.registerOutputs({ logGroupName: this.logGroupName });
    }
}
