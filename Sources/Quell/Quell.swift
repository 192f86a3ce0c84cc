/// Quell: a Redis-backed task queue for long-running sync jobs.
public enum Quell {
    /// The version of this library.
    public static let version = "0.1.0"
}
