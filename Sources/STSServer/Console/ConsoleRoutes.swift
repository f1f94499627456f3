import Hummingbird

extension StationServer {
    func addConsoleRoutes(to router: Router<StationRequestContext>) {
    }
}
