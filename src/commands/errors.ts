/** An error the user can fix from the command line; printed as one line, exit status 2. */
export class UsageError extends Error {}
