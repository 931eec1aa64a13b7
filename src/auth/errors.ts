// The authentication and authorization failures, as AWS's Coral front end answers them for the
// AWS JSON services (SWF, Step Functions, Data Pipeline): `com.amazon.coral.service#<Name>`, HTTP
// 400 for every one of them (Coral JSON services answer signature and credential errors with 400;
// the Query services' 403 does not apply), and on the Connect/gRPC routes UNAUTHENTICATED with
// the same name in the taskgate.common.v1.Fault detail.
import { Code, ConnectError } from "@connectrpc/connect";
import { Fault, Namespace } from "../faults.ts";
import { FaultSchema } from "../../gen/taskgate/common/v1/options_pb.ts";

/** An authentication failure: the Fault for the AWS JSON route and the Connect code for the RPC routes. */
export class AuthFailure extends Error {
  /** The AWS fault (name, namespace, message, HTTP status). */
  readonly fault: Fault;
  /** Code on the Connect/gRPC routes: Unauthenticated, or PermissionDenied for a refused authorization. */
  readonly connectCode: Code;

  constructor(fault: Fault, connectCode: Code) {
    super(fault.message);
    this.name = fault.type;
    this.fault = fault;
    this.connectCode = connectCode;
  }

  /** The ConnectError of the RPC routes: connectCode, with the fault's name in the Fault detail. */
  toConnectError(): ConnectError {
    const f = this.fault;
    return new ConnectError(f.message, this.connectCode, undefined, [{ desc: FaultSchema, value: { name: f.type, namespace: f.namespace, message: f.message } }], f);
  }
}

function coral(type: string, message: string): AuthFailure {
  return new AuthFailure(new Fault(type, message, { namespace: Namespace.coralService, code: "PermissionDenied", status: 400 }), Code.Unauthenticated);
}

/** The request carries no credentials at all (no Authorization header, no bearer token). */
export function missingAuthenticationToken(): AuthFailure {
  return coral("MissingAuthenticationTokenException", "Request is missing Authentication Token");
}

/** The Authorization header is not a complete AWS4-HMAC-SHA256 signature. */
export function incompleteSignature(message: string): AuthFailure {
  return coral("IncompleteSignatureException", message);
}

/** The signature, its scope or its date is wrong (AWS's messages; see sigv4.ts). */
export function invalidSignature(message: string): AuthFailure {
  return coral("InvalidSignatureException", message);
}

/** The access key is unknown, or the session token is missing or wrong. */
export function unrecognizedClient(): AuthFailure {
  return coral("UnrecognizedClientException", "The security token included in the request is invalid.");
}

/** AWS's message for a signature that does not verify; the canonical request and string to sign follow it. */
export const signatureMismatchMessage =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
