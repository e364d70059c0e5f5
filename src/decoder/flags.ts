// Flag effects per mnemonic: 'r:' flags read, 'w:' flags written, 'u:' written with undefined values.
// Letters: O S Z A P C, D (DF), I (IF), T (TF), X (all system flags: popf/iret/sahf-like whole-register writes).
export const FLAG_EFFECTS: Record<string, string> = {};
