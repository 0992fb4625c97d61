// ml-isolation-forest@0.1.0 ships no types. Only the named export works under ESM
// (`import IsolationForest from 'ml-isolation-forest'`, as its README says, is the
// CommonJS exports object and `new` on it throws "is not a constructor").
declare module 'ml-isolation-forest' {
  export interface MlTreeNode {
    depth?: number;
    maxDepth?: number;
    left?: MlTreeNode;
    right?: MlTreeNode;
    splitColumn?: number;
    splitValue?: number;
    trainingSet?: number[][];
    numberDataPoints(): number;
    isLeafNode(): boolean;
  }
  export class IsolationForest {
    constructor(options?: { nEstimators?: number });
    nEstimators: number;
    forest: MlTreeNode[];
    trainingSet?: number[][];
    train(trainingSet: number[][]): void;
    predict(data: number[][]): number[];
  }
}
