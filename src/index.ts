/**
 * bearer-guard: verify OAuth2 JWT access tokens (RFC 9068 / RFC 6750) the same way in every framework.
 *
 * @module bearer-guard
 */
export { createVerifier, isVerifier } from './core/verifier.js'
export { verifyAccessToken } from './core/one-shot.js'
export { extractBearer } from './core/extract.js'
export {
  AuthError,
  MissingTokenError,
  InvalidRequestError,
  InvalidTokenError,
  TokenExpiredError,
  TokenRevokedError,
  InsufficientScopeError,
  KeySourceUnavailableError,
  InvalidDpopProofError,
  UseDpopNonceError,
  isAuthError,
  DEFAULT_REALM,
} from './core/errors.js'
export { toErrorResponse, toWebResponse, webResponse } from './core/http.js'
export {
  hasRole,
  hasScopes,
  hasClaims,
  assertRoles,
  assertScopes,
  assertClaims,
  roleGuard,
  scopeGuard,
  claimsGuard,
} from './core/guards.js'
export { readClaim } from './core/claim-path.js'
export { DIAGNOSTICS_CHANNELS } from './core/diagnostics.js'
export { createMemoryRevocationStore } from './core/stores/memory-revocation.js'
export { createMemoryReplayStore } from './core/stores/memory-replay.js'
export {
  toVerifier,
  authenticateRequest,
  admitRequest,
  resolveFailure,
  resolveWebFailure,
  refuse,
  runGuard,
  guardMiddleware,
  recordAuthOptions,
  guardFailureOptions,
  resourceMetadataOf,
  checkAuthOptions,
  FORWARDED_IDENTITY_HEADERS,
  successHeaders,
  addSuccessHeaders,
  withSuccessHeaders,
} from './core/adapter.js'
export { nodeRequest, webRequest, nodeHeaders, nodeAuthorization, socketCertificate } from './core/request.js'
export { protectedResourceHandler } from './core/resource-metadata.js'
export { resourceMetadataUrl, sameResource } from './core/resource.js'

export type { AuthErrorCode, AuthErrorStatus, AuthErrorInit, Challenge } from './core/errors.js'
export type { ClaimsOf } from './core/verifier.js'
export type { VerifyMessage, JwksMessage, IntrospectMessage } from './core/diagnostics.js'
export type { ErrorResponse, ErrorResponseOptions } from './core/http.js'
export type {
  MetadataAnswer,
  MetadataVerifier,
  ProtectedResourceHandler,
  ProtectedResourceMetadata,
  ProtectedResourceOptions,
} from './core/resource-metadata.js'
export type { MatchOptions, ClaimRequirement, Guard } from './core/guards.js'
export type { AdapterOptions, GuardOptions, FailureOptions, Framework, Refusal, InheritedOptions } from './core/adapter.js'
export type {
  AuthRequest,
  ClientCertificate,
  HeaderValue,
  NodeRequestLike,
  UrlParts,
  WebRequestLike,
  WebRequestOptions,
} from './core/request.js'
export type { MemoryRevocationStoreOptions } from './core/stores/memory-revocation.js'
export type { MemoryReplayStoreOptions } from './core/stores/memory-replay.js'
export type {
  Algorithm,
  AsymmetricAlgorithm,
  SymmetricAlgorithm,
  AudiencePredicate,
  AuthContext,
  ClaimPath,
  ClaimSource,
  Duration,
  IntrospectionOptions,
  IssuerOptions,
  IssuerPredicate,
  JwksOptions,
  KeyInput,
  Logger,
  PrivateKeyJwtAuth,
  Register,
  RegisteredClaims,
  RevocationStore,
  ReplayStore,
  DpopOptions,
  MtlsOptions,
  SenderOptions,
  TokenTypeOption,
  Verifier,
  VerifierOptions,
  JWK,
  JWTPayload,
  JWSHeaderParameters,
  KeyObjectLike,
  CryptoKeyLike,
} from './core/types.js'
