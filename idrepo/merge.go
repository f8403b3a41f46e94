package idrepo

// mergePatch applies an RFC 7396 JSON merge patch to a JSON object and
// returns the result; target is not modified. A null member removes the
// field, an object member is merged recursively, anything else (arrays
// included, so a multi-language field is replaced as a whole) replaces it.
func mergePatch(target, patch map[string]any) map[string]any {
	out := make(map[string]any, len(target)+len(patch))
	for k, v := range target {
		out[k] = v
	}
	for k, pv := range patch {
		if pv == nil {
			delete(out, k)
			continue
		}
		pm, ok := pv.(map[string]any)
		if !ok {
			out[k] = pv
			continue
		}
		tm, _ := out[k].(map[string]any) // a non-object target member is replaced by {}
		out[k] = mergePatch(tm, pm)
	}
	return out
}
