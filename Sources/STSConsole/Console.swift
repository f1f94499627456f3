import STSStation
