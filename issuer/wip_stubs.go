package issuer

// Temporary stubs while the issuer is being written; each disappears as its
// real implementation lands. Owner in brackets.
