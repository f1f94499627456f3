/// Who is associated: the two clients the meter knows (Green Book client SAPs).
public enum ClientRole: Sendable, Equatable {
    /// SAP 16: reads what is public, no security, never writes or acts.
    case publicClient
    /// SAP 1: high-level security (HLS-GMAC), every APDU ciphered with suite 0.
    case management

    /// The client SAP (wrapper wPort) of the role.
    public var sap: UInt16 { self == .publicClient ? 16 : 1 }
    /// The role of a client SAP, nil for one the meter does not know.
    public init?(sap: UInt16) {
        switch sap { case 16: self = .publicClient; case 1: self = .management; default: return nil }
    }
}

/// An attribute's access mode in the object list.
public enum AccessMode: UInt8, Sendable { case none = 0, read = 1, write = 2, readWrite = 3 }

/// One object as the association's object list shows it, with the access the role has.
public struct CosemObjectInfo: Sendable {
    public var classId: UInt16
    public var version: UInt8
    public var instance: ObisCode
    /// Attribute ids 1…n and their access for the role.
    public var attributes: [AccessMode]
    /// Method ids 1…n and whether the role may call them.
    public var methods: [Bool]
    public init(classId: UInt16, version: UInt8, instance: ObisCode, attributes: [AccessMode], methods: [Bool]) {
        self.classId = classId; self.version = version; self.instance = instance
        self.attributes = attributes; self.methods = methods
    }

    /// The object_list element: {class_id, version, logical_name, {attribute_access, method_access}}.
    var listElement: DataValue {
        let attrs = attributes.enumerated().map { i, m in
            DataValue.structure([.integer(Int8(i + 1)), .enumerated(m.rawValue), .null])
        }
        let meths = methods.enumerated().map { i, ok in DataValue.structure([.integer(Int8(i + 1)), .enumerated(ok ? 1 : 0)]) }
        return .structure([.longUnsigned(classId), .unsigned(version), .octetString(instance.bytes),
                           .structure([.array(attrs), .array(meths)])])
    }
}

/// The meter's objects, as the server session calls them. The session itself serves the current
/// association (0.0.40.0.0.255) and checks security; the device answers for everything else and
/// enforces each role's access.
public protocol CosemDevice: AnyObject, Sendable {
    /// The objects the role sees (the current association is added by the session).
    func objects(for role: ClientRole) -> [CosemObjectInfo]
    /// Reads an attribute.
    func get(_ attribute: AttributeDescriptor, selection: AccessSelection?, role: ClientRole) -> GetResult
    /// Writes an attribute; returns a Data-Access-Result.
    func set(_ attribute: AttributeDescriptor, value: DataValue, role: ClientRole) -> UInt8
    /// Calls a method; returns an Action-Result and the return parameters.
    func action(_ method: MethodDescriptor, parameters: DataValue?, role: ClientRole) -> (result: UInt8, returned: GetResult?)
}

/// The meter's side of suite 0 security: its system title and keys, and the two invocation
/// counters that must survive restarts (the client's last accepted one, against replays; the
/// meter's own, so no GCM nonce is ever used twice).
public protocol ServerSecurityContext: AnyObject, Sendable {
    /// The meter's system title, 8 bytes.
    var systemTitle: [UInt8] { get }
    /// The management client's keys.
    var keys: SecurityKeys { get }
    /// The last invocation counter accepted from the management client.
    var lastAcceptedClientCounter: UInt32 { get }
    /// Records `counter` as accepted, refusing one that does not exceed the last (a replay).
    func accept(clientCounter counter: UInt32) throws(DLMSError)
    /// The meter's next invocation counter, never handed out twice (even across restarts).
    func nextServerCounter() throws(DLMSError) -> UInt32
}
