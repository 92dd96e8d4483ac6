/**
 * The verifier's door to the provisioning module (src/provisioning/): a credential built exactly as `enroll`
 * builds it (checked, its key sealed, its parameters from the policy), to be written by the provisioning store
 * in the same transaction as the activation that binds it. Keyed by a symbol no entry point exports: not
 * part of the public API.
 */
export const PREPARE_ENROLMENT: unique symbol = Symbol("capkit.prepareEnrolment");
