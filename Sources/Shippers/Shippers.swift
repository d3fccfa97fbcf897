// The Shippers module delivers documents and notifications to external systems
// (Elasticsearch bulk over libcurl, Alertmanager); its shippers arrive with the log-shipping and
// alerting work. SwiftPM needs one source file for the target to exist.
