@main
struct LatchkeyCommand {
    static func main() {}
}
