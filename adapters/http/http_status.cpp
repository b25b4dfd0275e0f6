#include "adapters/http/http_status.h"

namespace gh::http {

int http_status(Code code) {
  // One switch without a default: adding a Code breaks the build here until it is mapped.
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
    case Code::kConflict:
    case Code::kFailedPrecondition:
      return 409;
    case Code::kTooLarge:
      return 413;
    case Code::kTimeout:
      return 504;
    case Code::kUnavailable:
    case Code::kLeaseLost:  // another node owns the entity now: retry (routing will forward)
      return 503;
    case Code::kDataLoss:
    case Code::kInternal:
      return 500;
  }
  return 500;
}

Code code_for_http_status(int status) {
  switch (status) {
    case 400:
    case 411:
    case 414:
    case 415:
    case 416:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
    case 405:
      return Code::kNotFound;
    case 413:
    case 431:
      return Code::kTooLarge;
    case 429:  // the chat throttle: too many attempts
    case 503:
      return Code::kUnavailable;
    case 408:
    case 504:
      return Code::kTimeout;
    default:
      return Code::kInternal;
  }
}

}  // namespace gh::http
