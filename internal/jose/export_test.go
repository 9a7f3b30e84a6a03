package jose

// CheckKeys exposes the payload scanner to the black-box tests.
var CheckKeys = checkKeys

// CheckPayload exposes the payload check, base64 decoding included, to the
// benchmarks.
var CheckPayload = checkPayload
