// ShippersTests gains its tests with the Elasticsearch and Alertmanager shippers; SwiftPM needs a
// source file for the declared target meanwhile.
import Testing
