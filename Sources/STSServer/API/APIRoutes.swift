import Foundation
import Hummingbird

extension StationServer {
    /// Every `/api/v1` route, and the OpenAPI document that describes them.
    func addAPIRoutes(to router: Router<StationRequestContext>) {
        let api = router.group("api/v1")
        api.get("openapi.json") { _, _ in JSONResponse.bytes(OpenAPIDocument.bytes) }
        addSessionRoutes(to: api)
        addSaleRoutes(to: api)
        addMeterRoutes(to: api)
        addConnectedMeterRoutes(to: api)
        addAdminRoutes(to: api)
        addReportRoutes(to: api)
    }
}

/// The OpenAPI 3.1 document (Sources/STSServer/OpenAPI/openapi.json), kept true by the tests
/// that validate every route's request and response against it.
public enum OpenAPIDocument {
    /// The document's bytes.
    public static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "OpenAPI"),
              let data = try? Data(contentsOf: url) else { return Array(#"{"openapi":"3.1.0"}"#.utf8) }
        return Array(data)
    }()
}
