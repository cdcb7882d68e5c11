import rotation from "./program";

// The stack outputs are this module's exports; the Automation API driver calls the same function.
export = rotation();
